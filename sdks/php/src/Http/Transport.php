<?php

declare(strict_types=1);

namespace Ftmv\Http;

use Ftmv\Exception\ApiConnectionException;

/** Sends one request. CurlTransport is the default; another one can route through a proxy or a test double. */
interface Transport
{
    /** @throws ApiConnectionException when no response arrived (the request may or may not have reached the server) */
    public function send(Request $request, float $timeout): Response;
}
