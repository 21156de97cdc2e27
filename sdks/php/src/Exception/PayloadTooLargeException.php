<?php

declare(strict_types=1);

namespace Ftmv\Exception;

/** 413 PAYLOAD_TOO_LARGE: the request body or one decoded image is over the server's limit. */
class PayloadTooLargeException extends ApiException
{
}
