/*  A program outside the zflow tree, built against an installed zflow.
    Copy this directory to start a project of your own: see docs/building.md.
    tests/install/test_install.sh builds it against a fresh install three
    ways (find_package, pkg-config, pkg-config --static) and runs it. */
#include <zflow.h>
int main (void)
{
    zflow_key_t *key = zflow_key_new ("a", "b", NULL);
    printf ("%s %s\n", zflow_key_text (key), zflow_error_text (ZFLOW_ECLOSED));
    zflow_key_destroy (&key);
    return 0;
}
