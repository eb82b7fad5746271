/*  =========================================================================
    test_pipeline_builtin - the codec, the built-in maps and filters, user
    callbacks and CURVE links

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow.h"
#include "zflow_pipeline_codec.h"
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "zflow_testing.h"

static char s_dir[256];

//  Makes an envelope with the given payload bytes.
static zflow_msg_t *s_envelope (const void *data, size_t size)
{
    zflow_msg_t *msg = zflow_msg_new ();
    CHECK (zflow_envelope_encode (msg, "k", 1, NULL, data, size) == 0);
    return msg;
}

//  Writes msg as a line to a memory file and returns the text (free it).
static char *s_line (const zflow_msg_t *msg)
{
    char *text = NULL;
    size_t size = 0;
    FILE *file = open_memstream (&text, &size);
    CHECK (zflow__codec_write_line (file, msg) == 0);
    fclose (file);
    return text;
}

static void s_test_codec (void)
{
    const char *json_text = "{\"a\":1,\"b\":[true,null,2.5,\"x\"],\"c\":{\"d\":-7}}";
    json_t *json = zflow__codec_decode (json_text, strlen (json_text));
    CHECK (json);
    size_t size;
    char *packed = zflow__codec_encode (json, ZFLOW_PIPELINE_MSGPACK, &size);
    CHECK (packed && (byte) packed[0] == 0x83); //  a fixmap of 3
    json_t *back = zflow__codec_decode (packed, size);
    CHECK (back && json_equal (json, back));
    //  lines: msgpack comes out as JSON
    zflow_msg_t *msg = s_envelope (packed, size);
    char *line = s_line (msg);
    json_t *again = json_loads (line, 0, NULL);
    CHECK (again && json_equal (again, json));
    CHECK (line[strlen (line) - 1] == '\n' && !strchr (line, '\n')[1]);
    json_decref (again);
    free (line);
    zflow_msg_destroy (&msg);
    free (packed);
    json_decref (back);
    json_decref (json);

    //  pretty JSON becomes one line; text becomes a string; bad UTF-8 '?'
    msg = s_envelope ("{\n \"a\": 1\n}", 11);
    line = s_line (msg);
    CHECK (streq (line, "{\"a\":1}\n"));
    free (line);
    zflow_msg_destroy (&msg);
    msg = s_envelope ("plain \"text\"", 12);
    line = s_line (msg);
    CHECK (streq (line, "\"plain \\\"text\\\"\"\n"));
    free (line);
    zflow_msg_destroy (&msg);
    msg = s_envelope ("a\xff\xfe", 3);
    line = s_line (msg);
    CHECK (streq (line, "\"a??\"\n"));
    free (line);
    zflow_msg_destroy (&msg);

    //  not decodable: garbage, a truncated map, a map with an int key
    CHECK (!zflow__codec_decode ("{\"a\":", 5));
    CHECK (!zflow__codec_decode ("\x83\xa1"
                                 "a",
                                 3));
    CHECK (!zflow__codec_decode ("\x81\x01\x02", 3));
    CHECK (!zflow__codec_decode ("", 0));
    printf ("codec: ok\n");
}

//  Counts an envelope whose key is "zflow/in" and fails every fifth.
static int s_user_map (zflow_msg_t *msg, void *arg)
{
    int *calls = (int *) arg;
    size_t size;
    const char *key = (const char *) zflow_envelope_key (msg, &size);
    if (size != 8 || memcmp (key, "zflow\x1fin", 8))
        return ZFLOW_EPROTO;
    return ++*calls % 5 == 0 ? ZFLOW_EPROTO : 0;
}

//  Reads all lines of path into a list of strings.
static zlistx_t *s_lines (const char *path)
{
    zlistx_t *lines = zlistx_new ();
    zlistx_set_destructor (lines, (zlistx_destructor_fn *) zstr_free);
    FILE *file = fopen (path, "r");
    char buffer[1024];
    while (file && fgets (buffer, sizeof (buffer), file)) {
        buffer[strcspn (buffer, "\n")] = 0;
        zlistx_add_end (lines, strdup (buffer));
    }
    if (file)
        fclose (file);
    return lines;
}

//  Feeds lines into an inproc source of a pipeline whose last stage is a
//  file sink, stops it (draining) and returns the lines of the file.
static zlistx_t *s_run (zflow_pipeline_t *p, const char *endpoint, const char *path,
                        const char **input, size_t n)
{
    CHECK (zflow_pipeline_start (p) == 0);
    zsock_t *push = zsock_new (ZMQ_PUSH);
    CHECK (zsock_connect (push, "%s", endpoint) == 0);
    for (size_t i = 0; i < n; i++)
        zstr_send (push, input[i]);
    zclock_sleep (100);
    CHECK (zflow_pipeline_stop (p, 2000) == 0);
    zsock_destroy (&push);
    return s_lines (path);
}

static void s_test_filters (void)
{
    char path[300];
    snprintf (path, sizeof (path), "%s/out.jsonl", s_dir);
    zflow_pipeline_t *p = zflow_pipeline_new (&(zflow_pipeline_config_t){.name = "filters"}, NULL);
    zflow_pipeline_source (p, "in", "pull", "inproc://test-filters", NULL);
    int calls = 0;
    zflow_pipeline_map (p, "user", s_user_map, &calls, NULL);
    CHECK (zflow_pipeline_filter_json (p, "match", "[{\"type\":\"a\",\"n\":1},{\"type\":\"b\"}]") ==
           0);
    zflow_pipeline_encode (p, "pack", ZFLOW_PIPELINE_MSGPACK);
    zflow_pipeline_sink_file (p, "file", path);
    const char *input[] = {"{\"type\":\"a\",\"n\":1,\"x\":1}", //  1 kept
                           "{\"type\":\"a\",\"n\":2}",         //  2 no
                           "{\"type\":\"b\",\"n\":2}",         //  3 kept
                           "{\"n\":1}",                        //  4 no
                           "{\"type\":\"b\"}",                 //  5 map error
                           "[1,2]",                            //  6 not an object
                           "{\"type\":\"b\",\"z\":null}"};     //  7 kept
    zlistx_t *lines = s_run (p, "inproc://test-filters", path, input, 7);
    CHECK (zlistx_size (lines) == 3);
    CHECK (streq ((char *) zlistx_first (lines), "{\"type\":\"a\",\"n\":1,\"x\":1}"));
    CHECK (streq ((char *) zlistx_next (lines), "{\"type\":\"b\",\"n\":2}"));
    CHECK (streq ((char *) zlistx_next (lines), "{\"type\":\"b\",\"z\":null}"));
    zlistx_destroy (&lines);
    CHECK (calls == 7);
    zflow_pipeline_destroy (&p);
    unlink (path);

    //  bad match text is a builder error kept for start
    p = zflow_pipeline_new (&(zflow_pipeline_config_t){.name = "bad"}, NULL);
    zflow_pipeline_source (p, "in", "pull", "inproc://test-bad", NULL);
    CHECK (zflow_pipeline_filter_json (p, "match", "[1]") == ZFLOW_ECONFIG);
    CHECK (zflow_pipeline_filter_json (p, "match2", "{") == ZFLOW_ECONFIG);
    CHECK (zflow_pipeline_rekey (p, "rekey",
                                 "a\x1f"
                                 "b",
                                 "c") == ZFLOW_ECONFIG);
    CHECK (zflow_pipeline_start (p) == ZFLOW_ECONFIG);
    CHECK (strstr (zflow_pipeline_error_text (p), "'match'"));
    zflow_pipeline_destroy (&p);
    printf ("filters and maps: ok\n");
}

//  A CURVE link between two pipelines: the right server key gets every
//  message through; a wrong one gets nothing.
static void s_test_curve (void)
{
    char server[300], client[300];
    snprintf (server, sizeof (server), "%s/server.cert", s_dir);
    snprintf (client, sizeof (client), "%s/client.cert", s_dir);
    zcert_t *cert = zcert_new ();
    CHECK (zcert_save (cert, server) == 0);
    zcert_destroy (&cert);
    cert = zcert_new ();
    CHECK (zcert_save (cert, client) == 0);
    zcert_destroy (&cert);

    zflow_pipeline_t *a = zflow_pipeline_new (&(zflow_pipeline_config_t){.name = "a"}, NULL);
    zflow_pipeline_source_synthetic (a, "synth", 0, 100);
    zflow_pipeline_set_curve (a, server, NULL, NULL);
    zflow_pipeline_sink (a, "out", "push", "tcp://127.0.0.1:*", NULL);
    CHECK (zflow_pipeline_start (a) == 0);
    char *endpoint = zflow_pipeline_stage_bindings (a, 1);
    CHECK (endpoint);

    //  wrong key first: it must get nothing
    char path[300];
    snprintf (path, sizeof (path), "%s/curve.jsonl", s_dir);
    zflow_pipeline_t *wrong =
        zflow_pipeline_new (&(zflow_pipeline_config_t){.name = "wrong"}, NULL);
    zflow_pipeline_set_curve (wrong, NULL, client, client); //  not the server's key
    zflow_pipeline_source (wrong, "in", "pull", NULL, endpoint);
    zflow_pipeline_sink_file (wrong, "file", path);
    CHECK (zflow_pipeline_start (wrong) == 0);
    zclock_sleep (500);
    zhash_t *stats = zflow_pipeline_stage_stats (wrong, 0, 1000);
    CHECK (zflow_actor_stats_get (stats, "msgs_in") == 0);
    zhash_destroy (&stats);
    zflow_pipeline_destroy (&wrong);

    zflow_pipeline_t *b = zflow_pipeline_new (&(zflow_pipeline_config_t){.name = "b"}, NULL);
    zflow_pipeline_set_curve (b, NULL, client, server);
    zflow_pipeline_source (b, "in", "pull", NULL, endpoint);
    zflow_pipeline_sink_file (b, "file", path);
    CHECK (zflow_pipeline_start (b) == 0);
    int64_t deadline = zclock_mono () + 5000;
    uint64_t got = 0;
    while (got < 100 && zclock_mono () < deadline) {
        zclock_sleep (50);
        stats = zflow_pipeline_stage_stats (b, 1, 1000);
        got = zflow_actor_stats_get (stats, "msgs_out");
        zhash_destroy (&stats);
    }
    CHECK (got == 100);
    zflow_pipeline_destroy (&b);
    zflow_pipeline_destroy (&a);
    zlistx_t *lines = s_lines (path);
    CHECK (zlistx_size (lines) == 100);
    zlistx_destroy (&lines);
    zstr_free (&endpoint);
    unlink (path);
    char secret[320];
    snprintf (secret, sizeof (secret), "%s_secret", server);
    unlink (server);
    unlink (secret);
    snprintf (secret, sizeof (secret), "%s_secret", client);
    unlink (client);
    unlink (secret);
    printf ("curve: ok\n");
}

int main (void)
{
    snprintf (s_dir, sizeof (s_dir), "/tmp/zflow-test-builtin-XXXXXX");
    CHECK (mkdtemp (s_dir));
    s_test_codec ();
    s_test_filters ();
    s_test_curve ();
    rmdir (s_dir);
    return 0;
}
