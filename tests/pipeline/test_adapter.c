/*  =========================================================================
    test_adapter - the adapter registry, the shared option parser, and a
    user's adapter used from a configuration file

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow.h"
#include "zflow_cli.h"
#include "zflow_testing.h"
#include <fcntl.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

//  A user's sink: counts what it gets, and checks its options arrive.
typedef struct {
    const char *prefix; //  required text
    int64_t limit;      //  an integer
    int mode;           //  fast|slow
    bool verbose;       //  a boolean
} s_config_t;

static atomic_int s_written;
static char s_prefix[64];

static int s_write (zflow_msg_t *msg, void *arg)
{
    (void) msg;
    (void) arg;
    atomic_fetch_add (&s_written, 1);
    return 0;
}

static int s_add_sink (zflow_pipeline_t *pipeline, const char *name, const void *config, char *err,
                       size_t errsize)
{
    const s_config_t *self = (const s_config_t *) config;
    if (self->limit > 1000) {
        snprintf (err, errsize, "limit must be at most 1000");
        return -1;
    }
    snprintf (s_prefix, sizeof (s_prefix), "%s", self->prefix);
    return zflow_pipeline_sink_fn (pipeline, name, s_write, NULL, NULL);
}

static const zflow_adapter_option_t s_options[] = {
    {"prefix", ZFLOW_ADAPTER_STRING, true, NULL, NULL, "text to remember",
     offsetof (s_config_t, prefix), 0},
    {"limit", ZFLOW_ADAPTER_INT, false, "7", NULL, "a number", offsetof (s_config_t, limit), 0},
    {"mode", ZFLOW_ADAPTER_ENUM, false, "fast", "fast|slow", "a choice",
     offsetof (s_config_t, mode), 0},
    {"verbose", ZFLOW_ADAPTER_BOOL, false, "false", NULL, "a flag", offsetof (s_config_t, verbose),
     0},
    {NULL}};

static const zflow_adapter_t s_test_sink = {.name = "test_sink",
                                            .aliases = "test_out=sink",
                                            .schemes = "testsink",
                                            .summary = "counts messages (test)",
                                            .config_size = sizeof (s_config_t),
                                            .options = s_options,
                                            .sink = s_add_sink};

//  Parses text ("name = value" lines) as a section for the test sink.
//  Returns 0 or -1 with err and *option_p set.
static int s_parse (const char *text, s_config_t *config, const char **option_p, char *err,
                    size_t errsize)
{
    char *file = zsys_sprintf ("section\n%s", text);
    zconfig_t *root = zconfig_str_load (file);
    free (file);
    zconfig_t *section = zconfig_locate (root, "section");
    int rc = zflow_adapter_parse (&s_test_sink, "test_sink", ZFLOW_ADAPTER_SINK, section, "type",
                                  config, option_p, err, errsize);
    //  strings point into the section: keep the ones we check
    static char option[64];
    if (*option_p) {
        snprintf (option, sizeof (option), "%s", *option_p);
        *option_p = option;
    }
    if (rc == 0 && config->prefix)
        snprintf (s_prefix, sizeof (s_prefix), "%s", config->prefix);
    zconfig_destroy (&root);
    return rc;
}

static void s_test_find (void)
{
    const zflow_adapter_t *hpfeeds = zflow_adapter_find ("hpfeeds");
    CHECK (hpfeeds && streq (hpfeeds->name, "hpfeeds"));
    CHECK (zflow_adapter_find ("hpfeeds_sub") == hpfeeds);
    CHECK (zflow_adapter_find ("hpfeeds_pub") == hpfeeds);
    CHECK (zflow_adapter_role (hpfeeds, "hpfeeds_sub") == ZFLOW_ADAPTER_SOURCE);
    CHECK (zflow_adapter_role (hpfeeds, "hpfeeds_pub") == ZFLOW_ADAPTER_SINK);
    CHECK (zflow_adapter_role (hpfeeds, "hpfeeds") == 0);
    CHECK (zflow_adapter_roles (hpfeeds) == (ZFLOW_ADAPTER_SOURCE | ZFLOW_ADAPTER_SINK));
    CHECK (zflow_adapter_find ("wss") == zflow_adapter_find ("ws_sub"));
    CHECK (zflow_adapter_find ("centrifugo_pub") == zflow_adapter_find ("centrifugo"));
    CHECK (zflow_adapter_role (zflow_adapter_find ("file"), "file") == ZFLOW_ADAPTER_SINK);
    CHECK (zflow_adapter_role (zflow_adapter_find ("rekey"), "rekey") == ZFLOW_ADAPTER_STAGE);
    const zflow_adapter_t *hub = zflow_adapter_find ("hub");
    CHECK (hub && zflow_adapter_find ("hub_sub") == hub && zflow_adapter_find ("hub_pub") == hub);
    CHECK (zflow_adapter_roles (hub) == (ZFLOW_ADAPTER_SOURCE | ZFLOW_ADAPTER_SINK));
    CHECK (zflow_adapter_find ("nosuch") == NULL);
    CHECK (zflow_adapter_find (NULL) == NULL);
    CHECK (zflow_adapter_find ("") == NULL);
    CHECK (zflow_adapter_find_url ("tcp://127.0.0.1:5", ZFLOW_ADAPTER_SINK) ==
           zflow_adapter_find ("push"));
    CHECK (zflow_adapter_find_url ("tcp://127.0.0.1:5", ZFLOW_ADAPTER_SOURCE) ==
           zflow_adapter_find ("sub"));
    CHECK (zflow_adapter_find_url ("hpfeeds://a:b@h:1/c", 0) == hpfeeds);
    CHECK (zflow_adapter_find_url ("centrifugo+ws://h/c", ZFLOW_ADAPTER_SOURCE) ==
           zflow_adapter_find ("centrifugo"));
    CHECK (zflow_adapter_find_url ("redis://h:1/0", ZFLOW_ADAPTER_SINK) ==
           zflow_adapter_find ("redis_pub"));
    CHECK (zflow_adapter_find ("redis_sub") == zflow_adapter_find ("redis"));
    CHECK (zflow_adapter_find_url ("mqtts://h/t", ZFLOW_ADAPTER_SINK) ==
           zflow_adapter_find ("mqtt"));
    CHECK (zflow_adapter_find ("mqtt_sub") == zflow_adapter_find ("mqtt"));
    CHECK (zflow_adapter_find_url ("nope://x", 0) == NULL);
    CHECK (zflow_adapter_find_url ("://x", 0) == NULL);
    CHECK (zflow_adapter_find_url ("no scheme", 0) == NULL);
    CHECK (zflow_adapter_find_url (NULL, 0) == NULL);
    //  the list: every built-in once, names unique
    size_t count = 0;
    for (; zflow_adapter_at (count); count++)
        for (size_t j = 0; j < count; j++)
            CHECK (!streq (zflow_adapter_at (j)->name, zflow_adapter_at (count)->name));
    CHECK (count == 17);
    CHECK (zflow_adapter_at (count) == NULL);
    CHECK (streq (zflow_adapter_role_name (ZFLOW_ADAPTER_STAGE), "stage"));
    CHECK (streq (zflow_adapter_role_name (99), "?"));
}

static void s_test_register (void)
{
    size_t before = 0;
    while (zflow_adapter_at (before))
        before++;
    CHECK (zflow_adapter_register (NULL) == ZFLOW_EINVAL);
    zflow_adapter_t no_role = s_test_sink;
    no_role.sink = NULL;
    CHECK (zflow_adapter_register (&no_role) == ZFLOW_EINVAL);
    zflow_adapter_t no_options = s_test_sink;
    no_options.options = NULL;
    CHECK (zflow_adapter_register (&no_options) == ZFLOW_EINVAL);
    CHECK (zflow_adapter_register (&s_test_sink) == 0);
    CHECK (zflow_adapter_find ("test_sink") == &s_test_sink);
    CHECK (zflow_adapter_find ("test_out") == &s_test_sink);
    CHECK (zflow_adapter_find_url ("testsink://x", ZFLOW_ADAPTER_SINK) == &s_test_sink);
    CHECK (zflow_adapter_find_url ("testsink://x", ZFLOW_ADAPTER_SOURCE) == NULL);
    CHECK (zflow_adapter_at (before) == &s_test_sink);
    //  duplicates: the same name, an alias or a scheme taken by another
    CHECK (zflow_adapter_register (&s_test_sink) == ZFLOW_ECONFIG);
    static zflow_adapter_t clash[3];
    const char *names[][3] = {
        {"fresh1", "pull=source", NULL}, {"fresh2", NULL, "tcp"}, {"hpfeeds_pub", NULL, NULL}};
    for (int i = 0; i < 3; i++) {
        clash[i] = s_test_sink;
        clash[i].name = names[i][0];
        clash[i].aliases = names[i][1];
        clash[i].schemes = names[i][2];
        CHECK (zflow_adapter_register (&clash[i]) == ZFLOW_ECONFIG);
    }
    //  full: ZFLOW_ADAPTER_USER_MAX in all
    static zflow_adapter_t more[ZFLOW_ADAPTER_USER_MAX];
    static char more_names[ZFLOW_ADAPTER_USER_MAX][16];
    for (int i = 0; i < ZFLOW_ADAPTER_USER_MAX; i++) {
        snprintf (more_names[i], sizeof (more_names[i]), "user%d", i);
        more[i] = s_test_sink;
        more[i].name = more_names[i];
        more[i].aliases = NULL;
        more[i].schemes = NULL;
        int rc = zflow_adapter_register (&more[i]);
        CHECK (rc == (i < ZFLOW_ADAPTER_USER_MAX - 1 ? 0 : ZFLOW_EFULL));
    }
    CHECK (zflow_adapter_find ("user30") != NULL);
    CHECK (zflow_adapter_find ("user31") == NULL);
}

static void s_test_parse (void)
{
    s_config_t config;
    char err[300];
    const char *option = "x";
    CHECK (s_parse ("    prefix = abc\n", &config, &option, err, sizeof (err)) == 0);
    CHECK (streq (s_prefix, "abc") && config.limit == 7 && config.mode == 0 && !config.verbose);
    CHECK (option == NULL);
    CHECK (s_parse ("    prefix = a\n    limit = 3\n    mode = slow\n    verbose = yes\n", &config,
                    &option, err, sizeof (err)) == 0);
    CHECK (config.limit == 3 && config.mode == 1 && config.verbose);
    //  garbage, each with its exact error and the option at fault
    struct {
        const char *text, *option, *error;
    } bad[] = {
        {"    prefix = a\n    limit = 12x\n", "limit", "option 'limit': '12x' is not an integer"},
        {"    prefix = a\n    limit = -5\n", "limit", "option 'limit': '-5' must not be negative"},
        {"    prefix = a\n    limit = 99999999999999999999\n", "limit",
         "option 'limit': '99999999999999999999' is not an integer"},
        {"    prefix = a\n    mode = purple\n", "mode",
         "option 'mode': 'purple' is not one of the choices fast|slow"},
        {"    prefix = a\n    verbose = maybe\n", "verbose",
         "option 'verbose': 'maybe' is not a boolean (true or false)"},
        {"    limit = 1\n", NULL, "missing required option 'prefix' (text to remember)"},
        {"    prefix = a\n    bogus = 1\n", "bogus",
         "unknown option 'bogus' for type 'test_sink' (see: zflow help test_sink)"},
    };
    for (size_t i = 0; i < sizeof (bad) / sizeof (bad[0]); i++) {
        option = "unset";
        CHECK (s_parse (bad[i].text, &config, &option, err, sizeof (err)) == -1);
        if (!streq (err, bad[i].error))
            fprintf (stderr, "got: %s\n", err);
        CHECK (streq (err, bad[i].error));
        CHECK (bad[i].option ? option && streq (option, bad[i].option) : option == NULL);
    }
    //  role-specific options: hpfeeds' "channel" is the sink's
    zconfig_t *section = zconfig_new ("s", NULL);
    zconfig_put (section, "port", "1");
    zconfig_put (section, "ident", "i");
    zconfig_put (section, "secret", "s");
    zconfig_put (section, "channel", "c");
    const zflow_adapter_t *hpfeeds = zflow_adapter_find ("hpfeeds");
    char buffer[256];
    CHECK (zflow_adapter_parse (hpfeeds, "hpfeeds_pub", ZFLOW_ADAPTER_SINK, section, NULL, buffer,
                                NULL, err, sizeof (err)) == 0);
    CHECK (zflow_adapter_parse (hpfeeds, "hpfeeds_sub", ZFLOW_ADAPTER_SOURCE, section, NULL, buffer,
                                &option, err, sizeof (err)) == -1);
    CHECK (
        streq (err, "unknown option 'channel' for type 'hpfeeds_sub' (see: zflow help hpfeeds)"));
    zconfig_destroy (&section);
    CHECK (zflow_adapter_parse (NULL, NULL, 0, NULL, NULL, NULL, NULL, err, sizeof (err)) == -1);
}

static void s_test_args (void)
{
    char err[300];
    zconfig_t *section = zconfig_new ("args", NULL);
    char *good[] = {"--prefix", "p", "--limit", "5", "--verbose", "--prefix", "q"};
    CHECK (zflow_adapter_args (&s_test_sink, ZFLOW_ADAPTER_SINK, section, 7, good, err,
                               sizeof (err)) == 0);
    CHECK (streq (zconfig_get (section, "prefix", ""), "p\nq")); //  repeated: one per line
    CHECK (streq (zconfig_get (section, "verbose", ""), "true"));
    s_config_t config;
    CHECK (zflow_adapter_parse (&s_test_sink, NULL, ZFLOW_ADAPTER_SINK, section, NULL, &config,
                                NULL, err, sizeof (err)) == 0);
    CHECK (config.limit == 5 && config.verbose);
    char *unknown[] = {"--nope", "1"};
    CHECK (zflow_adapter_args (&s_test_sink, ZFLOW_ADAPTER_SINK, section, 2, unknown, err,
                               sizeof (err)) == -1);
    CHECK (streq (err, "unknown option '--nope' for test_sink (see: zflow help test_sink)"));
    char *missing[] = {"--limit"};
    CHECK (zflow_adapter_args (&s_test_sink, ZFLOW_ADAPTER_SINK, section, 1, missing, err,
                               sizeof (err)) == -1);
    CHECK (streq (err, "option '--limit' needs a value"));
    char *positional[] = {"prefix"};
    CHECK (zflow_adapter_args (&s_test_sink, ZFLOW_ADAPTER_SINK, section, 1, positional, err,
                               sizeof (err)) == -1);
    CHECK (streq (err, "bad argument 'prefix'"));
    //  a garbage value gets through args and is refused by the parser
    char *garbage[] = {"--mode", "sideways"};
    CHECK (zflow_adapter_args (&s_test_sink, ZFLOW_ADAPTER_SINK, section, 2, garbage, err,
                               sizeof (err)) == 0);
    CHECK (zflow_adapter_parse (&s_test_sink, NULL, ZFLOW_ADAPTER_SINK, section, NULL, &config,
                                NULL, err, sizeof (err)) == -1);
    CHECK (streq (err, "option 'mode': 'sideways' is not one of the choices fast|slow"));
    zconfig_destroy (&section);
    //  a URL fills options as text: hpfeeds
    const zflow_adapter_t *hpfeeds = zflow_adapter_find ("hpfeeds");
    section = zconfig_new ("url", NULL);
    CHECK (hpfeeds->from_url ("hpfeeds://id:sec@host:10000/a,b", ZFLOW_ADAPTER_SOURCE, section, err,
                              sizeof (err)) == 0);
    CHECK (streq (zconfig_get (section, "ident", ""), "id"));
    CHECK (streq (zconfig_get (section, "port", ""), "10000"));
    CHECK (streq (zconfig_get (section, "channels", ""), "a,b"));
    CHECK (hpfeeds->from_url ("hpfeeds://nohost/x", ZFLOW_ADAPTER_SOURCE, section, err,
                              sizeof (err)) == -1);
    CHECK (streq (err, "'hpfeeds://nohost/x' is not hpfeeds://IDENT:SECRET@HOST:PORT/CHANNEL "
                       "(no IDENT:SECRET@)"));
    zconfig_destroy (&section);
}

//  The shared URL parser: good URLs split right, garbage refused with its
//  exact error (a fuzz-ish table of what users and hostile input give).
static void s_test_url (void)
{
    zflow_adapter_url_t url;
    char err[300];
    CHECK (zflow_adapter_url_parse ("hpfeeds://a:b@[::1]:1/ch", &url, err, sizeof (err)) == 0);
    CHECK (streq (url.scheme, "hpfeeds") && url.userinfo && streq (url.user, "a"));
    CHECK (url.has_password && streq (url.password, "b") && streq (url.host, "::1"));
    CHECK (url.ipv6 && url.port == 1 && streq (url.path, "/ch"));
    CHECK (zflow_adapter_url_parse ("HTTP://Host:65535/api?x=1#f", &url, err, sizeof (err)) == 0);
    CHECK (streq (url.scheme, "http") && streq (url.host, "Host") && url.port == 65535);
    CHECK (!url.userinfo && !url.ipv6 && streq (url.path, "/api?x=1#f"));
    CHECK (zflow_adapter_url_parse ("wss://example.com", &url, err, sizeof (err)) == 0);
    CHECK (url.port == 0 && streq (url.path, "") && streq (url.host, "example.com"));
    CHECK (zflow_adapter_url_parse ("centrifugo+ws://h?q", &url, err, sizeof (err)) == 0);
    CHECK (streq (url.scheme, "centrifugo+ws") && streq (url.host, "h") && streq (url.path, "?q"));
    CHECK (zflow_adapter_url_parse ("hpfeeds://i:p@x:y@h_1:9/c", &url, err, sizeof (err)) == 0);
    CHECK (streq (url.user, "i") && streq (url.password, "p@x:y") && streq (url.host, "h_1"));
    CHECK (zflow_adapter_url_parse ("hpfeeds://i@h:9/c", &url, err, sizeof (err)) == 0);
    CHECK (url.userinfo && !url.has_password && streq (url.user, "i"));
    CHECK (zflow_adapter_url_parse ("tcp://[::ffff:1.2.3.4]:5", &url, err, sizeof (err)) == 0);
    CHECK (url.ipv6 && streq (url.host, "::ffff:1.2.3.4") && url.port == 5);
    //  the longest URL taken: 1024 bytes
    char longest[ZFLOW_ADAPTER_URL_MAX + 2];
    memset (longest, 'p', sizeof (longest) - 1);
    longest[sizeof (longest) - 1] = 0;
    memcpy (longest, "ws://h/", 7);
    CHECK (zflow_adapter_url_parse (longest, &url, err, sizeof (err)) == -1);
    CHECK (strstr (err, "...': longer than 1024 bytes (1025)"));
    longest[ZFLOW_ADAPTER_URL_MAX] = 0;
    CHECK (zflow_adapter_url_parse (longest, &url, err, sizeof (err)) == 0);
    CHECK (strlen (url.path) == ZFLOW_ADAPTER_URL_MAX - 6);
    char long_host[300] = "ws://";
    memset (long_host + 5, 'h', 260);
    CHECK (zflow_adapter_url_parse (long_host, &url, err, sizeof (err)) == -1);
    CHECK (strstr (err, "': host longer than 255 bytes"));
    struct {
        const char *url, *error;
    } bad[] = {
        {"", "'': no scheme (SCHEME://...)"},
        {"://x", "'://x': no scheme (SCHEME://...)"},
        {"1ws://x", "'1ws://x': no scheme (SCHEME://...)"},
        {"ws:/x", "'ws:/x': no scheme (SCHEME://...)"},
        {"a234567890123456789012345678901234://h", "no scheme (SCHEME://...)"},
        {"no scheme", "'no scheme': a space at character 3 (percent-encode it as %20)"},
        {"ws://a b/", "'ws://a b/': a space at character 7 (percent-encode it as %20)"},
        {"ws://a\tb/", "'ws://a\tb/': a control or non-ASCII byte 0x09 at character 7"},
        {"ws://h\xc3\xa9/", "'ws://h\xc3\xa9/': a control or non-ASCII byte 0xc3 at character 7"},
        {"ws://h/\x7f", "'ws://h/\x7f': a control or non-ASCII byte 0x7f at character 8"},
        {"ws://", "'ws://': no host"},
        {"ws:///path", "'ws:///path': no host"},
        {"ws://:80/", "'ws://:80/': no host"},
        {"ws://u:p@/", "'ws://u:p@/': no host"},
        {"ws://h:/", "'ws://h:/': no port after ':'"},
        {"ws://h:x/", "'ws://h:x/': port 'x' is not a number"},
        {"ws://h:-1/", "'ws://h:-1/': port '-1' is not a number"},
        {"ws://h:+1/", "'ws://h:+1/': port '+1' is not a number"},
        {"ws://h:0/", "'ws://h:0/': port 0 is out of range (1-65535)"},
        {"ws://h:65536/", "'ws://h:65536/': port 65536 is out of range (1-65535)"},
        {"tcp://127.0.0.1:99999", "'tcp://127.0.0.1:99999': port 99999 is out of range (1-65535)"},
        {"ws://h:99999999999999999999/",
         "'ws://h:99999999999999999999/': port 99999999999999999999 is out of range (1-65535)"},
        {"ws://::1:80/", "'ws://::1:80/': an IPv6 address must be in brackets ([::1]:PORT)"},
        {"ws://h:1:2/", "'ws://h:1:2/': an IPv6 address must be in brackets ([::1]:PORT)"},
        {"ws://[::1/", "'ws://[::1/': bad IPv6 address in brackets"},
        {"ws://[::g]:1/", "'ws://[::g]:1/': bad IPv6 address in brackets"},
        {"ws://[]:1/", "'ws://[]:1/': bad IPv6 address in brackets"},
        {"ws://[::1]x/", "'ws://[::1]x/': bad IPv6 address in brackets"},
        {"ws://[1.2.3.4]:1/", "'ws://[1.2.3.4]:1/': bad IPv6 address in brackets"},
        {"ws://[::1]:99999/", "'ws://[::1]:99999/': port 99999 is out of range (1-65535)"},
        {"ws://a(b/", "'ws://a(b/': bad character '(' in the host"},
        {"ws://a%20b/", "'ws://a%20b/': bad character '%' in the host"},
        {"ws://h]:1/", "'ws://h]:1/': bad character ']' in the host"},
    };
    for (size_t i = 0; i < sizeof (bad) / sizeof (bad[0]); i++) {
        err[0] = 0;
        int rc = zflow_adapter_url_parse (bad[i].url, &url, err, sizeof (err));
        if (rc != -1 || !strstr (err, bad[i].error))
            fprintf (stderr, "\n%s: got %d '%s'\n", bad[i].url, rc, err);
        CHECK (rc == -1 && strstr (err, bad[i].error));
    }
    CHECK (zflow_adapter_url_parse (NULL, &url, err, sizeof (err)) == -1 && streq (err, "no URL"));
    CHECK (zflow_adapter_url_parse ("ws://h/", NULL, err, sizeof (err)) == -1);

    //  every URL-taking descriptor uses it
    struct {
        const char *adapter, *url, *error; //  error NULL: taken
        int role;
    } urls[] = {
        {"hpfeeds", "hpfeeds://a:b@[::1]:1/ch", NULL, ZFLOW_ADAPTER_SOURCE},
        {"hpfeeds", "hpfeeds://a:b@[::1]:0/ch", "port 0 is out of range", ZFLOW_ADAPTER_SINK},
        {"hpfeeds", "hpfeeds://a:b@h/ch", "(no :PORT)", ZFLOW_ADAPTER_SINK},
        {"hpfeeds", "hpfeeds://a:b@h:1/", "(no /CHANNEL)", ZFLOW_ADAPTER_SINK},
        {"hpfeeds", "hpfeeds://a@h:1/c", "(no IDENT:SECRET@)", ZFLOW_ADAPTER_SINK},
        {"hpfeeds", "hpfeeds://:s@h:1/c", "(no IDENT)", ZFLOW_ADAPTER_SINK},
        {"sub", "tcp://127.0.0.1:99999", "port 99999 is out of range (1-65535)",
         ZFLOW_ADAPTER_SOURCE},
        {"sub", "tcp://[::1]:5555", NULL, ZFLOW_ADAPTER_SOURCE},
        {"sub", "tcp://h", "is not tcp://HOST:PORT (no :PORT)", ZFLOW_ADAPTER_SOURCE},
        {"sub", "ipc:///tmp/x y", NULL, ZFLOW_ADAPTER_SOURCE},
        {"push", "tcp://h:1/x", "(no /PATH in a ZeroMQ endpoint)", ZFLOW_ADAPTER_SINK},
        {"ws", "ws://a b/", "a space at character 7", ZFLOW_ADAPTER_SOURCE},
        {"ws", "wss://[::1]:8443/x", NULL, ZFLOW_ADAPTER_SOURCE},
        {"ws", "ws://u:p@h/x", "takes no USER@", ZFLOW_ADAPTER_SOURCE},
        {"ws", "ws://h:65536/", "port 65536 is out of range", ZFLOW_ADAPTER_SINK},
        {"centrifugo", "centrifugo+ws://127.0.0.1:99999/c", "port 99999 is out of range",
         ZFLOW_ADAPTER_SOURCE},
        {"centrifugo", "centrifugo+wss://[::1]:8000/c", NULL, ZFLOW_ADAPTER_SOURCE},
        {"centrifugo", "http://127.0.0.1:99999/api", "port 99999 is out of range",
         ZFLOW_ADAPTER_SINK},
        {"centrifugo", "https://[::1]/api", NULL, ZFLOW_ADAPTER_SINK},
        {"centrifugo", "ftp://x", "Centrifugo takes http[s]://HOST:PORT/api", ZFLOW_ADAPTER_SINK},
        {"redis", "redis://:pw@[::1]:6380/2", NULL, ZFLOW_ADAPTER_SOURCE},
        {"redis", "redis://h", NULL, ZFLOW_ADAPTER_SINK},
        {"redis", "redis://h:70000", "port 70000 is out of range", ZFLOW_ADAPTER_SINK},
        {"redis", "redis://h/x", "/DB is not a number", ZFLOW_ADAPTER_SOURCE},
        {"redis", "rediss://h", "hiredis 0.14 has no TLS", ZFLOW_ADAPTER_SOURCE},
    };
    for (size_t i = 0; i < sizeof (urls) / sizeof (urls[0]); i++) {
        const zflow_adapter_t *adapter = zflow_adapter_find (urls[i].adapter);
        zconfig_t *section = zconfig_new ("url", NULL);
        err[0] = 0;
        int rc = adapter->from_url (urls[i].url, urls[i].role, section, err, sizeof (err));
        bool good = urls[i].error ? rc == -1 && strstr (err, urls[i].error) : rc == 0;
        if (!good)
            fprintf (stderr, "\n%s: got %d '%s'\n", urls[i].url, rc, err);
        CHECK (good);
        zconfig_destroy (&section);
    }
    zconfig_t *section = zconfig_new ("url", NULL);
    CHECK (zflow_adapter_find ("hpfeeds")->from_url ("hpfeeds://a:b@[::1]:1/ch", ZFLOW_ADAPTER_SINK,
                                                     section, err, sizeof (err)) == 0);
    CHECK (streq (zconfig_get (section, "host", ""), "::1"));
    CHECK (streq (zconfig_get (section, "port", ""), "1"));
    CHECK (streq (zconfig_get (section, "channel", ""), "ch"));
    zconfig_destroy (&section);
    //  and the public stage constructors
    zflow_pipeline_t *pipeline = zflow_pipeline_new (NULL, NULL);
    CHECK_RC (zflow_pipeline_source_ws (pipeline, "w", "ws://h:99999/", NULL, NULL), ZFLOW_EINVAL);
    CHECK (strstr (zflow_pipeline_error_text (pipeline), "port 99999 is out of range"));
    zflow_pipeline_destroy (&pipeline); //  the first error stays: one pipeline each
    pipeline = zflow_pipeline_new (NULL, NULL);
    CHECK_RC (zflow_pipeline_sink_ws (pipeline, "w", "ws://a b/", NULL), ZFLOW_EINVAL);
    CHECK (strstr (zflow_pipeline_error_text (pipeline), "a space at character 7"));
    zflow_pipeline_destroy (&pipeline);
    pipeline = zflow_pipeline_new (NULL, NULL);
    zflow_centrifugo_sink_config_t centrifugo;
    memset (&centrifugo, 0, sizeof (centrifugo));
    centrifugo.address = "ftp://x";
    CHECK_RC (zflow_pipeline_sink_centrifugo (pipeline, "c", &centrifugo), ZFLOW_EINVAL);
    CHECK (strstr (zflow_pipeline_error_text (pipeline), "'ftp://x' is not http:// or https://"));
    zflow_pipeline_destroy (&pipeline);
}

static void s_test_print (void)
{
    char path[] = "/tmp/zflow-test-adapter-XXXXXX";
    int fd = mkstemp (path);
    FILE *file = fdopen (fd, "w+");
    zflow_adapter_print (&s_test_sink, file, true);
    zflow_adapter_print (zflow_adapter_find ("hpfeeds"), file, false);
    fflush (file);
    rewind (file);
    char text[8192] = "";
    size_t size = fread (text, 1, sizeof (text) - 1, file);
    text[size] = 0;
    fclose (file);
    unlink (path);
    CHECK (strstr (text, "`test_sink` (sink): counts messages (test)"));
    CHECK (strstr (text, "| `mode` | choice (fast, slow) | no | `fast` | a choice |"));
    CHECK (strstr (text, "| `prefix` | string | yes |  | text to remember |"));
    CHECK (strstr (text, "hpfeeds (source, sink)"));
    CHECK (strstr (text, "channel to publish each payload to (sink)"));
}

//  A user's adapter used from a configuration file through the loader.
static void s_test_config (void)
{
    char path[] = "/tmp/zflow-test-adapter-XXXXXX";
    int fd = mkstemp (path);
    const char *text = "gen\n"
                       "    type = synthetic\n"
                       "    rate = 0\n"
                       "    count = 25\n"
                       "out\n"
                       "    type = test_out\n"
                       "    input = gen\n"
                       "    prefix = from-file\n"
                       "    mode = slow\n";
    CHECK (write (fd, text, strlen (text)) == (ssize_t) strlen (text));
    close (fd);
    zflow_pipeline_t *pipeline = NULL;
    zconfig_t *config = NULL;
    zflow_cli_global_t global;
    CHECK (zflow_cli_load (path, &pipeline, &global, &config) == 0);
    CHECK (pipeline && zflow_pipeline_size (pipeline) == 2);
    CHECK (streq (s_prefix, "from-file"));
    CHECK (zflow_pipeline_start (pipeline) == 0);
    for (int i = 0; i < 500 && atomic_load (&s_written) < 25; i++)
        zclock_sleep (10);
    CHECK (atomic_load (&s_written) == 25);
    CHECK (zflow_pipeline_stop (pipeline, 2000) == 0);
    zflow_pipeline_destroy (&pipeline);
    zconfig_destroy (&config);

    //  its own check refuses the file: nothing is built
    fd = open (path, O_WRONLY | O_TRUNC);
    text = "gen\n    type = synthetic\nout\n    type = test_sink\n    input = gen\n"
           "    prefix = x\n    limit = 5000\n";
    CHECK (write (fd, text, strlen (text)) == (ssize_t) strlen (text));
    close (fd);
    CHECK (zflow_cli_load (path, &pipeline, &global, &config) == -1);
    CHECK (pipeline == NULL && config == NULL);
    unlink (path);
}

int main (void)
{
    zsys_init ();
    RUN (s_test_find);
    RUN (s_test_parse);
    RUN (s_test_register);
    RUN (s_test_args);
    RUN (s_test_url);
    RUN (s_test_print);
    RUN (s_test_config);
    return 0;
}
