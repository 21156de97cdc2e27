<?php

declare(strict_types=1);

namespace Ftmv\Exception;

/** 503 SERVICE_UNAVAILABLE: the queue or database is unreachable; nothing was charged. */
class ServiceUnavailableException extends ServerException
{
}
