<?php

declare(strict_types=1);

namespace Ftmv\Exception;

use Ftmv\Model\Order;

/** Client::wait() gave up before the order ended; $order is the last state seen. */
class WaitTimeoutException extends FtmvException
{
    public function __construct(public readonly Order $order, float $timeout)
    {
        parent::__construct("order {$order->id} still {$order->status} after {$timeout} s");
    }
}
