<?php

declare(strict_types=1);

namespace Ftmv\Exception;

/** 400 INVALID_IMAGE: not base64, not an image, an unsupported format, too small or too many pixels. */
class InvalidImageException extends ValidationException
{
}
