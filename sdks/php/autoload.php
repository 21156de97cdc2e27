<?php

// PSR-4 autoloading without Composer (require this file); with Composer, its autoloader does the same.
spl_autoload_register(static function (string $class): void {
    if (str_starts_with($class, 'Ftmv\\')) {
        $file = __DIR__ . '/src/' . str_replace('\\', '/', substr($class, 5)) . '.php';
        if (is_file($file)) {
            require $file;
        }
    }
});
