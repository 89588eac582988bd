# A row of bench/scan/floor.sh's table from its -v variables.
BEGIN {
        printf "| %s: %d files, %.0f MB | %.3f (%.2f) | %.3f (%.2f) | %.3f (%.3f) | %.3f | %.3f | %.3f | %.3f | %.3f | %d |\n",
                n, fi, by / 1e6, f, fc, e, c, e / f, c / fc, fin, ein, ein / fin, s, s / ein, dir
}
