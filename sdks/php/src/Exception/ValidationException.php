<?php

declare(strict_types=1);

namespace Ftmv\Exception;

/** 400 INVALID_REQUEST: a missing, unknown or invalid field; getFields() maps field names to messages. */
class ValidationException extends ApiException
{
    /** @return array<string, mixed> */
    public function getFields(): array
    {
        $fields = $this->getDetails()['fields'] ?? [];
        return is_array($fields) ? $fields : [];
    }
}
