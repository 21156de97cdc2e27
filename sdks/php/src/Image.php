<?php

declare(strict_types=1);

namespace Ftmv;

/**
 * An image input. A plain string given to Client::generate() is a file path (or a data:image/ URL): PHP
 * strings are also bytes, so raw bytes and ready base64 are marked with Image::bytes() / Image::base64().
 * An open stream (fopen) or an SplFileInfo are accepted as they are.
 */
final class Image
{
    private function __construct(private readonly string $base64)
    {
    }

    public static function bytes(string $data): self
    {
        return new self(base64_encode($data));
    }

    public static function base64(string $encoded): self
    {
        return new self($encoded);
    }

    public static function path(string $path): self
    {
        $data = @file_get_contents($path);
        if ($data === false) {
            throw new \InvalidArgumentException("cannot read image file $path");
        }
        return self::bytes($data);
    }

    /** @param resource $stream */
    public static function stream($stream): self
    {
        $data = stream_get_contents($stream);
        if ($data === false) {
            throw new \InvalidArgumentException('cannot read the image stream');
        }
        return self::bytes($data);
    }

    /** @param string|self|\SplFileInfo|resource $value */
    public static function encode(mixed $value, string $field): string
    {
        if (is_string($value) && str_starts_with($value, 'data:image/')) {
            return $value; // a data URL is unambiguous: the server accepts the prefix
        }
        $image = match (true) {
            $value instanceof self => $value,
            is_string($value) => self::path($value),
            $value instanceof \SplFileInfo => self::path($value->getPathname()),
            is_resource($value) => self::stream($value),
            default => throw new \InvalidArgumentException(
                "$field: expected a path, Image::bytes(), Image::base64(), a stream or SplFileInfo"
            ),
        };
        if ($image->base64 === '') {
            throw new \InvalidArgumentException("$field: the image is empty");
        }
        return $image->base64;
    }
}
