/*  =========================================================================
    replay_ws - runs every file of a corpus through the ws fuzz target

    For compilers without libFuzzer (gcc): replay_ws <dir> [<dir>...].
    Returns 0 when every input ran (a crash fails the test on its own;
    under -DZFLOW_SANITIZE=ON ASan and UBSan check each input).

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

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int main (int argc, char *argv[])
{
    int files = 0;
    for (int i = 1; i < argc; i++) {
        DIR *dir = opendir (argv[i]);
        if (!dir) {
            fprintf (stderr, "replay_ws: cannot open %s\n", argv[i]);
            return 1;
        }
        struct dirent *entry;
        while ((entry = readdir (dir))) {
            if (entry->d_name[0] == '.')
                continue;
            char path[4096];
            snprintf (path, sizeof (path), "%s/%s", argv[i], entry->d_name);
            FILE *file = fopen (path, "rb");
            if (!file)
                continue;
            uint8_t *data = (uint8_t *) malloc (1 << 20);
            size_t size = data ? fread (data, 1, 1 << 20, file) : 0;
            fclose (file);
            if (data)
                LLVMFuzzerTestOneInput (data, size);
            free (data);
            files++;
        }
        closedir (dir);
    }
    printf ("replay_ws: %d inputs\n", files);
    return files > 0 ? 0 : 1;
}
