<?php

declare(strict_types=1);

namespace Ftmv\Exception;

/** 500 INTERNAL_ERROR (or another 5xx): the server failed; safe to retry later. */
class ServerException extends ApiException
{
}
