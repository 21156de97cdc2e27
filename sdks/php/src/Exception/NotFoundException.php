<?php

declare(strict_types=1);

namespace Ftmv\Exception;

/** 404 NOT_FOUND: no such order for this key (another user's order is not found either). */
class NotFoundException extends ApiException
{
}
