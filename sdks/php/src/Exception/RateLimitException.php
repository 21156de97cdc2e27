<?php

declare(strict_types=1);

namespace Ftmv\Exception;

/**
 * 429 RATE_LIMIT_EXCEEDED: the hourly or daily generate budget (or the polling budget) is spent;
 * getRetryAfter() says when to try again.
 */
class RateLimitException extends ApiException
{
}
