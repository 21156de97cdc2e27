<?php

declare(strict_types=1);

namespace Ftmv\Exception;

/** The server could not be reached, or the connection broke (after the automatic retries). */
class ApiConnectionException extends FtmvException
{
}
