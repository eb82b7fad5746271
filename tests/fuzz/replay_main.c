/*  =========================================================================
    replay_main - runs every file of a fuzz corpus through a libFuzzer
    target without libFuzzer, so any compiler (gcc in CI) can smoke-run it

        replay <corpus directory or file>...

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static int s_run_file (const char *path)
{
    FILE *file = fopen (path, "rb");
    if (!file)
        return -1;
    uint8_t *data = NULL;
    size_t size = 0, capacity = 0;
    for (;;) {
        if (size == capacity) {
            capacity = capacity ? capacity * 2 : 65536;
            uint8_t *grown = (uint8_t *) realloc (data, capacity);
            if (!grown)
                break;
            data = grown;
        }
        size_t got = fread (data + size, 1, capacity - size, file);
        if (got == 0)
            break;
        size += got;
    }
    fclose (file);
    LLVMFuzzerTestOneInput (data, size);
    free (data);
    return 0;
}

int main (int argc, char *argv[])
{
    int files = 0;
    for (int arg = 1; arg < argc; arg++) {
        struct stat info;
        if (stat (argv[arg], &info)) {
            fprintf (stderr, "replay: cannot read %s\n", argv[arg]);
            return 1;
        }
        if (!S_ISDIR (info.st_mode)) {
            files += s_run_file (argv[arg]) == 0;
            continue;
        }
        DIR *dir = opendir (argv[arg]);
        struct dirent *entry;
        while (dir && (entry = readdir (dir))) {
            if (entry->d_name[0] == '.')
                continue;
            char path[4096];
            snprintf (path, sizeof (path), "%s/%s", argv[arg], entry->d_name);
            files += s_run_file (path) == 0;
        }
        if (dir)
            closedir (dir);
    }
    printf ("replay: %d inputs ran clean\n", files);
    return files > 0 ? 0 : 1;
}
