<?php

// Loads every class under src/ through Composer's PSR-4 rule for composer.json's map (and nothing else):
// each file must declare the class its path names. Prints how many classes loaded.

declare(strict_types=1);

$composer = json_decode(file_get_contents(__DIR__ . '/../composer.json'), true, 512, JSON_THROW_ON_ERROR);
$loaded = 0;
foreach ($composer['autoload']['psr-4'] as $prefix => $folder) {
    $base = realpath(__DIR__ . '/../' . $folder) . '/';
    spl_autoload_register(static function (string $class) use ($prefix, $base): void {
        if (str_starts_with($class, $prefix)) {
            $file = $base . str_replace('\\', '/', substr($class, strlen($prefix))) . '.php';
            if (is_file($file)) {
                require $file;
            }
        }
    });
    foreach (new RecursiveIteratorIterator(new RecursiveDirectoryIterator($base)) as $file) {
        if ($file->getExtension() !== 'php') {
            continue;
        }
        $class = $prefix . str_replace('/', '\\', substr($file->getPathname(), strlen($base), -4));
        if (!class_exists($class) && !interface_exists($class)) {
            fwrite(STDERR, "not loadable through PSR-4: $class\n");
            exit(1);
        }
        $loaded++;
    }
}
echo $loaded, "\n";
