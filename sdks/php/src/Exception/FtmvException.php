<?php

declare(strict_types=1);

namespace Ftmv\Exception;

/** Base of every exception this package throws. */
class FtmvException extends \RuntimeException
{
}
