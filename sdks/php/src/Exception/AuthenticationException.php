<?php

declare(strict_types=1);

namespace Ftmv\Exception;

/** 401 UNAUTHORIZED: the API key is missing, malformed, unknown or revoked. */
class AuthenticationException extends ApiException
{
}
