/*  =========================================================================
    zflow_adapter - an adapter is one descriptor: its options, its URL form
    and the pipeline stages it adds

    Each adapter (hpfeeds, WebSocket, Centrifugo, the ZeroMQ endpoints,
    the built-in stages) is one const zflow_adapter_t, the only global of
    its file, found by name, by one of its aliases (the stage types of
    configuration files: "hpfeeds_sub", "ws_pub", ...) or by URL scheme
    ("hpfeeds", "ws", "wss", "tcp", ...). Its option table, bound to the
    fields of its config struct with offsetof, is the only place an option
    is declared: the configuration loader parses and checks sections with
    it, `zflow pub` / `zflow sub` take the same options as --name value
    pairs, and `zflow help NAME` prints it (docs/cli.md's tables are that
    output). A user's adapter is registered with zflow_adapter_register and
    is then found like the built-in ones:

        typedef struct { const char *path; } my_config_t;
        static const zflow_adapter_option_t my_options[] = {
            {"path", ZFLOW_ADAPTER_STRING, true, NULL, NULL, "where to write",
             offsetof (my_config_t, path), 0},
            {NULL}};
        static int s_my_sink (zflow_pipeline_t *p, const char *name,
                              const void *config, char *err, size_t errsize)
        {   ...zflow_pipeline_sink_fn (p, name, ...)... }
        const zflow_adapter_t my_adapter = {
            .name = "mine", .summary = "writes somewhere", .config_size =
            sizeof (my_config_t), .options = my_options, .sink = s_my_sink};
        ...
        zflow_adapter_register (&my_adapter);

    The registry holds the built-in adapters and up to
    ZFLOW_ADAPTER_USER_MAX registered ones, for the life of the process;
    registered descriptors are borrowed, never copied or freed.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#ifndef ZFLOW_ADAPTER_H_INCLUDED
#define ZFLOW_ADAPTER_H_INCLUDED

#include "zflow_pipeline.h"
#include <czmq.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

//  Most adapters zflow_adapter_register accepts (besides the built-in ones).
#define ZFLOW_ADAPTER_USER_MAX 32

//  Roles an adapter can play in a pipeline (bit flags).
#define ZFLOW_ADAPTER_SOURCE 1 //  produces envelopes (a section without "input")
#define ZFLOW_ADAPTER_SINK 2   //  consumes them
#define ZFLOW_ADAPTER_STAGE 4  //  consumes and produces (map, filter, merge)

//  Option value types, and the C type of the field each fills.
typedef enum {
    ZFLOW_ADAPTER_STRING, //  const char * (owned by the zconfig section parsed)
    ZFLOW_ADAPTER_INT,    //  int64_t, decimal, not negative, no trailing text
    ZFLOW_ADAPTER_BOOL,   //  bool: true/false, yes/no, on/off, 1/0
    ZFLOW_ADAPTER_ENUM    //  int: index of the value in choices ("a|b|c")
} zflow_adapter_type_t;

//  One option of an adapter.
typedef struct {
    const char *name;          //  option name: in a section, and --name on the command line
    zflow_adapter_type_t type; //  value type
    bool required;             //  must be given (by the section, the URL or --name)
    const char *fallback;      //  default value as text, or NULL (none: the field stays 0)
    const char *choices;       //  ZFLOW_ADAPTER_ENUM: allowed values, '|'-separated
    const char *help;          //  one line of help
    size_t offset;             //  offsetof the field in the adapter's config struct
    int roles;                 //  the ZFLOW_ADAPTER_* roles it applies to; 0: every role
} zflow_adapter_option_t;

//  Adds a stage named name, configured by config (the adapter's struct,
//  filled by zflow_adapter_parse), to pipeline. Writes what is wrong into
//  err (errsize bytes) and returns non-zero when the values do not go
//  together or the pipeline refuses the stage. config and its strings are
//  the caller's: the function copies what it keeps.
typedef int (zflow_adapter_add_fn) (zflow_pipeline_t *pipeline, const char *name,
                                    const void *config, char *err, size_t errsize);

//  Turns a URL of the adapter's form into option values for role (a
//  ZFLOW_ADAPTER_* flag): sets them as
//  text children of section (zconfig_put), so that command-line options
//  and defaults then go through the same parser. Returns 0, or -1 with
//  what is wrong in err.
typedef int (zflow_adapter_url_fn) (const char *url, int role, zconfig_t *section, char *err,
                                    size_t errsize);

//  What an adapter's stages report: the STATS counters they add (names as
//  they appear in the stage's STATS) and their events; each may be NULL.
typedef struct {
    const char *connected; //  1 while connected to the far end (absent: always ready)
    const char *delivered; //  sink: messages the far end took
    const char *dropped;   //  sink: messages given up for good
    const char *events;    //  source: key (text form) of the event envelopes it emits
                           //  besides data: ("<events>", <type>), a JSON object payload
    const char *fatal;     //  event types that mean "refused for good", '|'-separated;
                           //  "type:op" matches only a payload with that "op", and a
                           //  payload with "temporary": true is never fatal
    const char *refused;   //  non-zero once the far end refused for good (a wrong
                           //  secret or API key, a channel the ident may not use):
                           //  zflow pub / sub stop at once and exit 1
    const char *reason;    //  an entry holding TEXT, not a number: the far end's words
                           //  for its last refusal or rejected message, said with it
    int settle_ms;         //  sink whose far end acknowledges nothing: how long after
                           //  the last message a refusal may still come (0: none)
    const char *all;       //  every counter it adds, '|'-separated, for help
} zflow_adapter_stats_t;

//  An adapter.
typedef struct {
    const char *name;     //  its name: `zflow help NAME`, also a stage type
    const char *aliases;  //  other stage type names, '|'-separated, each with the role
                          //  it stands for: "hpfeeds_sub=source|hpfeeds_pub=sink" (or NULL)
    const char *schemes;  //  URL schemes it serves, '|'-separated ("ws|wss"), or NULL
    const char *summary;  //  one line of help
    const char *url_form; //  the URL form for help ("hpfeeds://IDENT:SECRET@HOST:PORT/CH")
    size_t config_size;   //  size of its config struct
    const zflow_adapter_option_t *options; //  option table, ended by {NULL}
    zflow_adapter_url_fn *from_url;        //  fills options from a URL, or NULL
    zflow_adapter_add_fn *source;          //  adds it as a source, or NULL
    zflow_adapter_add_fn *sink;            //  adds it as a sink, or NULL
    zflow_adapter_add_fn *stage;           //  adds it as a map/filter/merge stage, or NULL
    zflow_adapter_stats_t stats;           //  the counters its stages add
} zflow_adapter_t;

//  Returns the adapter whose name, alias or URL scheme is name (built-in
//  or registered), or NULL. The descriptor is borrowed.
const zflow_adapter_t *zflow_adapter_find (const char *name);

//  Returns the first adapter that serves the scheme of url ("ws" of
//  "ws://host/") and has role (one ZFLOW_ADAPTER_* flag; 0: any), or NULL.
const zflow_adapter_t *zflow_adapter_find_url (const char *url, int role);

//  Returns adapter index, built-in ones first, in registration order;
//  NULL past the end. For listing.
const zflow_adapter_t *zflow_adapter_at (size_t index);

//  Registers a user's adapter. The descriptor (and everything it points
//  to) must live as long as the process. Returns 0, ZFLOW_EINVAL (NULL,
//  no name, no option table, no source, sink or stage function),
//  ZFLOW_ECONFIG (its name, an alias or a scheme is taken already) or
//  ZFLOW_EFULL (ZFLOW_ADAPTER_USER_MAX adapters are registered already).
//  Thread-safe.
int zflow_adapter_register (const zflow_adapter_t *adapter);

//  Returns the roles (ZFLOW_ADAPTER_* flags) adapter can play.
int zflow_adapter_roles (const zflow_adapter_t *adapter);

//  Returns the role the type name type stands for with adapter: an
//  alias's role, else the adapter's role when it has only one, else 0 (the
//  caller decides: a configuration section with "input" is a sink).
int zflow_adapter_role (const zflow_adapter_t *adapter, const char *type);

//  Returns role's name: "source", "sink" or "stage" ("?" for others).
const char *zflow_adapter_role_name (int role);

//  Fills config (adapter->config_size bytes, zeroed first) from the values
//  of section for role: every child of section must be an option of the
//  adapter for that role or one of the skip names ('|'-separated, may be
//  NULL); missing options take their defaults; values are converted and
//  checked. The strings set point into section, which must outlive config.
//  Returns 0, or -1 with the error in err (errsize bytes) and in *option_p
//  (may be NULL) the option at fault (NULL when the error is about the
//  section as a whole). Errors, as err gets them:
//      unknown option 'X' for type 'T' (see: zflow help T)
//      missing required option 'X' (HELP)
//      option 'X': 'VALUE' is not an integer | must not be negative |
//          is not a boolean (true or false) | is not one of the choices A|B
int zflow_adapter_parse (const zflow_adapter_t *adapter, const char *type, int role,
                         zconfig_t *section, const char *skip, void *config, const char **option_p,
                         char *err, size_t errsize);

//  Adds command-line options (argv: "--name value" pairs; '-' and '_' are
//  the same in a name; a boolean option may stand alone as "--name") to
//  section as text children, for zflow_adapter_parse. A string option
//  given again is appended on a new line. Returns 0, or -1 with err set:
//      unknown option '--X' for T (see: zflow help T)
//      option '--X' needs a value
int zflow_adapter_args (const zflow_adapter_t *adapter, int role, zconfig_t *section, int argc,
                        char **argv, char *err, size_t errsize);

//  Longest URL zflow_adapter_url_parse takes, in bytes.
#define ZFLOW_ADAPTER_URL_MAX 1024

//  A URL split by zflow_adapter_url_parse: SCHEME://[USER[:PASSWORD]@]HOST
//  [:PORT][PATH]. A plain struct of arrays (no pointers): it may be copied.
typedef struct {
    char scheme[32];                          //  lowercase ("hpfeeds", "centrifugo+ws")
    bool userinfo;                            //  a USER[:PASSWORD]@ part was given
    char user[ZFLOW_ADAPTER_URL_MAX + 1];     //  before the first ':' of it, as written
    bool has_password;                        //  the userinfo has a ':'
    char password[ZFLOW_ADAPTER_URL_MAX + 1]; //  after that ':', as written (no decoding)
    char host[256];                           //  name or address, "" if none; an IPv6
                                              //  literal without its brackets ("::1")
    bool ipv6;                                //  host was a [bracketed] IPv6 literal
    int port;                                 //  1-65535, or 0 when the URL gives none
    char path[ZFLOW_ADAPTER_URL_MAX + 1];     //  from the first '/', '?' or '#' after the
                                              //  host to the end, "" if none
} zflow_adapter_url_t;

//  Splits url into *parsed (the adapters' from_url functions and stage
//  checks use it, so that every URL is judged the same way) and checks it:
//  at most ZFLOW_ADAPTER_URL_MAX bytes, printable ASCII only (no space),
//  a scheme, a host of URL characters or a [bracketed] IPv6 address, a
//  port of 1-65535 when given. The userinfo ends at the last '@' before
//  the path; nothing is percent-decoded. Returns 0, or -1 with what is
//  wrong in err (errsize bytes), the URL quoted (cut at 100 bytes) first:
//      'URL': longer than 1024 bytes (N)
//      'URL': a space at byte N (percent-encode it as %20)
//      'URL': a control or non-ASCII byte 0xNN at byte N
//      'URL': no scheme (SCHEME://...)
//      'URL': no host
//      'URL': bad character 'C' in the host
//      'URL': bad IPv6 address in brackets
//      'URL': an IPv6 address must be in brackets ([::1]:PORT)
//      'URL': no port after ':'
//      'URL': port 'X' is not a number
//      'URL': port N is out of range (1-65535)
//  url NULL or parsed NULL: -1, "no URL".
int zflow_adapter_url_parse (const char *url, zflow_adapter_url_t *parsed, char *err,
                             size_t errsize);

//  Prints adapter's summary, URL form and option table to file, as text or
//  as Markdown (what the tables of docs/cli.md are made of).
void zflow_adapter_print (const zflow_adapter_t *adapter, FILE *file, bool markdown);

#ifdef __cplusplus
}
#endif

#endif
