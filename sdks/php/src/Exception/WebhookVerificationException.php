<?php

declare(strict_types=1);

namespace Ftmv\Exception;

/** A webhook's X-Ftmv-Signature is missing, malformed, too old or does not match the body. */
class WebhookVerificationException extends FtmvException
{
}
