/*  A program outside the zflow tree, built against an installed zflow. */
#include <zflow.h>
int main (void)
{
    zflow_key_t *key = zflow_key_new ("a", "b", NULL);
    printf ("%s %s\n", zflow_key_text (key), zflow_strerror (ZFLOW_ECLOSED));
    zflow_key_destroy (&key);
    return 0;
}
