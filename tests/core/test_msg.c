/*  Tests for zflow_msg: parts, copies, moves and czmq conversion. */
#include "zflow_testing.h"
#include <string.h>

static void test_parts (void)
{
    zflow_msg_t *msg = zflow_msg_new ();
    CHECK (msg);
    CHECK (zflow_msg_size (msg) == 0);
    CHECK (zflow_msg_data (msg, 0) == NULL);
    CHECK (zflow_msg_part_size (msg, 0) == 0);
    CHECK (zflow_msg_strdup (msg, 0) == NULL);
    CHECK_RC (zflow_msg_addstr (msg, NULL), ZFLOW_EINVAL);
    //  more parts than fit inline: the array moves to the heap intact
    for (int i = 0; i < 37; i++) {
        char text[16];
        snprintf (text, sizeof (text), "part-%d", i);
        CHECK_RC (zflow_msg_addstr (msg, text), 0);
    }
    CHECK (zflow_msg_size (msg) == 37);
    CHECK (zflow_msg_streq (msg, 0, "part-0"));
    CHECK (zflow_msg_streq (msg, 36, "part-36"));
    CHECK (!zflow_msg_streq (msg, 36, "part-3"));
    CHECK (!zflow_msg_streq (msg, 37, "part-36"));
    char *text = zflow_msg_strdup (msg, 12);
    CHECK (text && strcmp (text, "part-12") == 0);
    free (text);
    void *space = zflow_msg_add_empty (msg, 3);
    CHECK (space);
    memcpy (space, "xyz", 3);
    CHECK (zflow_msg_streq (msg, 37, "xyz"));
    CHECK_RC (zflow_msg_add (msg, NULL, 0), 0);
    CHECK (zflow_msg_part_size (msg, 38) == 0);
    size_t expected = 3;
    for (int i = 0; i < 37; i++)
        expected += zflow_msg_part_size (msg, i);
    CHECK (zflow_msg_content_size (msg) == expected);
    zflow_msg_reset (msg);
    CHECK (zflow_msg_size (msg) == 0);
    zflow_msg_destroy (&msg);
    CHECK (msg == NULL);
    zflow_msg_destroy (&msg);
}

static void test_copy_move (void)
{
    zflow_msg_t *a = zflow_msg_new ();
    zflow_msg_t *b = zflow_msg_new ();
    zflow_msg_addstr (a, "one");
    zflow_msg_addstr (a, "two");
    CHECK_RC (zflow_msg_copy (b, a), 0);
    CHECK (zflow_msg_size (a) == 2 && zflow_msg_size (b) == 2);
    CHECK (zflow_msg_streq (b, 1, "two"));
    zflow_msg_addstr (b, "three");
    CHECK_RC (zflow_msg_move (a, b), 0);
    CHECK (zflow_msg_size (b) == 0);
    CHECK (zflow_msg_size (a) == 3 && zflow_msg_streq (a, 2, "three"));
    //  a zmq_msg_t taken over without copying
    zmq_msg_t raw;
    zmq_msg_init_size (&raw, 4);
    memcpy (zmq_msg_data (&raw), "four", 4);
    CHECK_RC (zflow_msg_add_zmq (a, &raw), 0);
    CHECK (zmq_msg_size (&raw) == 0);
    zmq_msg_close (&raw);
    CHECK (zflow_msg_streq (a, 3, "four"));
    CHECK (zmq_msg_size ((zmq_msg_t *) zflow_msg_zmq (a, 3)) == 4);
    CHECK (zflow_msg_zmq (a, 4) == NULL);
    zflow_msg_destroy (&a);
    zflow_msg_destroy (&b);
}

static void test_zmsg (void)
{
    zflow_msg_t *msg = zflow_msg_new ();
    zmsg_t *zmsg = zmsg_new ();
    zmsg_addstr (zmsg, "alpha");
    zmsg_addmem (zmsg, "", 0);
    zmsg_addstr (zmsg, "omega");
    CHECK_RC (zflow_msg_from_zmsg (msg, &zmsg), 0);
    CHECK (zmsg == NULL);
    CHECK (zflow_msg_size (msg) == 3 && zflow_msg_part_size (msg, 1) == 0);
    zmsg_t *none = NULL;
    CHECK_RC (zflow_msg_from_zmsg (msg, &none), ZFLOW_EINVAL);
    CHECK_RC (zflow_msg_from_zmsg (msg, NULL), ZFLOW_EINVAL);
    CHECK (zflow_msg_size (msg) == 0);
    zmsg = zmsg_new ();
    zmsg_addstr (zmsg, "alpha");
    zmsg_addmem (zmsg, "", 0);
    zmsg_addstr (zmsg, "omega");
    CHECK_RC (zflow_msg_from_zmsg (msg, &zmsg), 0);
    zmsg = zflow_msg_to_zmsg (msg);
    CHECK (zmsg && zmsg_size (zmsg) == 3);
    CHECK (zflow_msg_size (msg) == 0);
    char *last = zmsg_popstr (zmsg);
    CHECK (streq (last, "alpha"));
    zstr_free (&last);
    zmsg_destroy (&zmsg);
    zflow_msg_destroy (&msg);
}

static void test_strerror (void)
{
    CHECK (strcmp (zflow_error_text (0), "success") == 0);
    CHECK (strcmp (zflow_error_text (ZFLOW_ECLOSED), "stream or actor is closed") == 0);
    CHECK (strcmp (zflow_error_text (-9999), "unknown zflow error") == 0);
    //  every code in the table has its own text
    for (int code = ZFLOW_ENOTSUP; code < 0; code++)
        CHECK (strcmp (zflow_error_text (code), "unknown zflow error") != 0);
    //  the old name gives the same text
    CHECK (zflow_error_text (ZFLOW_EINVAL) == zflow_error_text (ZFLOW_EINVAL));
}

//  Every core destroy is NULL-safe and idempotent, and sets the pointer
//  to NULL.
static void test_destroy_null (void)
{
    zflow_msg_destroy (NULL);
    zflow_key_destroy (NULL);
    zflow_meta_destroy (NULL);
    zflow_msg_t *msg = zflow_msg_new ();
    zflow_key_t *key = zflow_key_new ("a", NULL);
    zflow_meta_t *meta = zflow_meta_new ();
    CHECK (msg && key && meta);
    zflow_msg_destroy (&msg);
    zflow_key_destroy (&key);
    zflow_meta_destroy (&meta);
    CHECK (msg == NULL && key == NULL && meta == NULL);
    zflow_msg_destroy (&msg);
    zflow_key_destroy (&key);
    zflow_meta_destroy (&meta);
}

int main (void)
{
    printf ("test_msg\n");
    RUN (test_parts);
    RUN (test_copy_move);
    RUN (test_zmsg);
    RUN (test_strerror);
    RUN (test_destroy_null);
    return 0;
}
