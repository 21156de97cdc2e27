<?php

declare(strict_types=1);

namespace Ftmv\Exception;

/** 429 CONCURRENCY_LIMIT_EXCEEDED: the plan's number of orders in progress at once is reached. */
class ConcurrencyLimitException extends RateLimitException
{
}
