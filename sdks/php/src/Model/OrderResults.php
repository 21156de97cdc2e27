<?php

declare(strict_types=1);

namespace Ftmv\Model;

/** Absolute, fetchable URLs of a completed order: try-on (person/clothing/result) or catalog (product/images). */
final class OrderResults
{
    /**
     * @param list<string> $catalog_images
     * @param array<string, mixed> $raw
     */
    public function __construct(
        public readonly ?string $person_url = null,
        public readonly ?string $clothing_url = null,
        public readonly ?string $result_url = null,
        public readonly ?string $product_url = null,
        public readonly array $catalog_images = [],
        public readonly ?int $quantity = null,
        public readonly ?string $product_description = null,
        public readonly array $raw = [],
    ) {
    }

    /** @param array<string, mixed> $data */
    public static function fromArray(array $data): self
    {
        return new self(
            $data['person_url'] ?? null,
            $data['clothing_url'] ?? null,
            $data['result_url'] ?? null,
            $data['product_url'] ?? null,
            array_values($data['catalog_images'] ?? []),
            isset($data['quantity']) ? (int) $data['quantity'] : null,
            $data['product_description'] ?? null,
            $data,
        );
    }

    /** @return list<string> the generated images: the try-on result, or every catalog image */
    public function outputs(): array
    {
        return $this->result_url !== null ? [$this->result_url] : $this->catalog_images;
    }
}
