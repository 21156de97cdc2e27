<?php

declare(strict_types=1);

namespace Ftmv\Exception;

/** 402 INSUFFICIENT_CREDITS: buy credits; getCreditsRequired() and getCreditsAvailable() say how many. */
class InsufficientCreditsException extends ApiException
{
    public function getCreditsRequired(): ?int
    {
        return $this->getDetails()['credits_required'] ?? null;
    }

    public function getCreditsAvailable(): ?int
    {
        return $this->getDetails()['credits_available'] ?? null;
    }
}
