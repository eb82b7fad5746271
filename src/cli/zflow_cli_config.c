/*  =========================================================================
    zflow_cli_config - loading a ZPL file into a pipeline

    A file has one section per stage, named after the stage, with "type"
    (a stage type, see zflow help), "input" for all but sources (the
    sections it reads, comma-separated), optionally "thread = own" (the
    stage keeps an actor of its own instead of being chained, see
    zflow_pipeline.h) and the type's own options; and an optional section
    "zflow" with settings for the whole run:

        zflow
            mode = lossless
        in
            type = pull
            bind = tcp://127.0.0.1:5555
        hashes
            type = nonempty
            input = in
            field = hashes
        out
            type = file
            input = hashes

    Everything is checked before anything is built, and every error found
    is reported as "FILE:LINE: ...". zconfig keeps no line numbers, so the
    loader scans the text itself for the line of each section and option.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow_cli.h"
#include <ctype.h>
#include <errno.h>
#include <string.h>

//  Deepest nesting the line scanner follows.
#define S_DEPTH 8
//  Longest line zconfig reads whole (it cuts longer ones).
#define S_LINE_MAX 1024

//  One section of the file, checked and waiting to be built.
typedef struct {
    zconfig_t *section;             //  its zconfig node
    const char *name;               //  section (stage) name
    const zflow_adapter_t *adapter; //  its type
    const char *type;               //  the type name the section gave
    int role;                       //  ZFLOW_ADAPTER_SOURCE, _SINK or _STAGE
    void *config;                   //  parsed options (adapter's struct)
    const char *input;              //  input names, or NULL
    bool own_thread;                //  thread = own: never chained
    bool built;                     //  added to the pipeline
    bool read;                      //  some section reads it
    size_t order;                   //  its place in the file (0: first)
    size_t pending;                 //  s_build: inputs not built yet
} s_section_t;

//  Records path -> line; a top-level name seen twice goes in as "!dup/name".
static void s_record (zhash_t *lines, char **stack, int depth, int lineno)
{
    char path[512] = "";
    for (int d = 0; d <= depth; d++) {
        if (!stack[d])
            return;
        if (d)
            strncat (path, "/", sizeof (path) - strlen (path) - 1);
        strncat (path, stack[d], sizeof (path) - strlen (path) - 1);
    }
    if (zhash_lookup (lines, path) && depth == 0) {
        char dup[520];
        snprintf (dup, sizeof (dup), "!dup/%s", path);
        zhash_insert (lines, dup, (void *) (intptr_t) lineno);
    } else
        zhash_insert (lines, path, (void *) (intptr_t) lineno);
}

//  True for the characters zconfig takes in a name.
static bool s_namechar (char c)
{
    return isalnum ((unsigned char) c) || (c && strchr ("$-_@.&+/", c));
}

//  Checks what follows the name on a line: nothing, a comment, or
//  "= value" (a quoted value closed, then nothing or a comment). Returns
//  NULL, or what is wrong.
static const char *s_syntax_rest (const char *rest, const char *end)
{
    while (rest < end && isspace ((unsigned char) *rest))
        rest++;
    if (rest == end || *rest == '#')
        return NULL;
    if (*rest != '=')
        return "a name with a space or a character zconfig does not take (letters, digits and "
               "$-_@.&+/ only)";
    const char *value = rest + 1;
    while (value < end && isspace ((unsigned char) *value))
        value++;
    if (value < end && (*value == '"' || *value == '\'')) {
        const char *close = memchr (value + 1, *value, (size_t) (end - value - 1));
        if (!close)
            return "a quoted value with no closing quote";
        for (close++; close < end && isspace ((unsigned char) *close); close++)
            ;
        if (close < end && *close != '#')
            return "text after the closing quote of a value";
    }
    return NULL;
}

//  Checks the ZPL shape of one line (indent, name, quotes) against the
//  previous depth. Returns NULL, or what is wrong.
static const char *s_syntax (const char *at, const char *end, const char *name, int depth,
                             int previous)
{
    if (memchr (at, '\t', (size_t) (name - at)) || *name == '\t')
        return "a tab in the indentation (ZPL indents with 4 spaces)";
    if ((name - at) % 4)
        return "indentation is not a multiple of 4 spaces";
    if (depth > previous + 1)
        return "indented more than one level below the line before";
    if (*name == '=')
        return "a value with no name";
    const char *after = name;
    while (after < end && s_namechar (*after))
        after++;
    if (after == name)
        return "a name must start with a letter, a digit or one of $-_@.&+";
    if (*name == '/' || after[-1] == '/')
        return "a name cannot start or end with '/'";
    return s_syntax_rest (after, end);
}

//  Returns a hash of zconfig path ("in/bind") -> line number. On a syntax
//  error, sets *error_line and *error (and stops scanning).
static zhash_t *s_scan_lines (const char *text, int *error_line, const char **error)
{
    zhash_t *lines = zhash_new ();
    char *stack[S_DEPTH] = {0};
    int lineno = 0, previous = -1;
    for (const char *at = text; *at && !*error;) {
        lineno++;
        const char *end = strchr (at, '\n');
        if (!end)
            end = at + strlen (at);
        const char *name = at;
        while (name < end && (*name == ' ' || *name == '\t'))
            name++;
        int depth = (int) (name - at) / 4;
        size_t size = strcspn (name, " \t=\r\n#");
        if (end - at > S_LINE_MAX) {
            *error = "a line longer than 1024 bytes (the most zconfig reads)";
            *error_line = lineno;
        } else if (name < end && *name != '#' && *name != '\r') {
            if ((*error = s_syntax (at, end, name, depth, previous)))
                *error_line = lineno;
            else if (size && depth < S_DEPTH) {
                for (int d = depth; d < S_DEPTH; d++)
                    zstr_free (&stack[d]);
                stack[depth] = strndup (name, size);
                s_record (lines, stack, depth, lineno);
            }
            previous = depth;
        }
        at = *end ? end + 1 : end;
    }
    for (int d = 0; d < S_DEPTH; d++)
        zstr_free (&stack[d]);
    return lines;
}

static int s_line (zhash_t *lines, const char *section, const char *option)
{
    char path[512];
    snprintf (path, sizeof (path), option ? "%s/%s" : "%s", section, option);
    return (int) (intptr_t) zhash_lookup (lines, path);
}

//  The checked sections: in file order, and by name.
typedef struct {
    zlistx_t *list; //  s_section_t items, owned, in file order
    zhash_t *index; //  name -> the same items (lookups move no list cursor)
} s_sections_t;

static s_section_t *s_find (s_sections_t *sections, const char *name)
{
    return (s_section_t *) zhash_lookup (sections->index, name);
}

//  Checks one section's type and options. Returns the section, or NULL
//  after reporting the error.
static s_section_t *s_check_section (zconfig_t *node, const char *file, zhash_t *lines)
{
    const char *name = zconfig_name (node);
    char dup[520], err[768];
    snprintf (dup, sizeof (dup), "!dup/%s", name);
    const char *type = zconfig_get (node, "type", NULL);
    const zflow_adapter_t *adapter = type ? zflow_adapter_find (type) : NULL;
    const char *input = zconfig_get (node, "input", NULL);
    const char *thread = zconfig_get (node, "thread", NULL);
    //  an adapter with several roles: a section with input is a sink
    int role = zflow_adapter_role (adapter, type);
    if (adapter && !role)
        role = input ? (adapter->sink ? ZFLOW_ADAPTER_SINK : ZFLOW_ADAPTER_STAGE)
                     : (adapter->source ? ZFLOW_ADAPTER_SOURCE : ZFLOW_ADAPTER_STAGE);
    if (zhash_lookup (lines, dup))
        snprintf (err, sizeof (err), "%s:%d: section '%s' is declared twice", file,
                  (int) (intptr_t) zhash_lookup (lines, dup), name);
    else if (!type || !*type)
        snprintf (err, sizeof (err), "%s:%d: section '%s': missing required option 'type'", file,
                  s_line (lines, name, NULL), name);
    else if (!adapter)
        snprintf (err, sizeof (err), "%s:%d: section '%s': unknown type '%s' (see: zflow help)",
                  file, s_line (lines, name, "type"), name, type);
    else if (thread && !streq (thread, "own") && !streq (thread, "shared"))
        snprintf (err, sizeof (err),
                  "%s:%d: section '%s': option 'thread': '%s' is not own or shared", file,
                  s_line (lines, name, "thread"), name, thread);
    else {
        s_section_t *self = (s_section_t *) zmalloc (sizeof (s_section_t));
        self->section = node;
        self->name = name;
        self->adapter = adapter;
        self->type = type;
        self->role = role;
        self->config = zmalloc (adapter->config_size ? adapter->config_size : 1);
        self->input = input;
        self->own_thread = thread && streq (thread, "own");
        const char *option = NULL;
        char problem[600];
        if (zflow_adapter_parse (adapter, type, role, node, "type|input|thread", self->config,
                                 &option, problem, sizeof (problem)) == 0)
            return self;
        snprintf (err, sizeof (err), "%s:%d: section '%s': %s", file, s_line (lines, name, option),
                  name, problem);
        free (self->config);
        free (self);
    }
    fprintf (stderr, "%s\n", err);
    return NULL;
}

//  Checks the links of one section. Returns the number of errors reported.
static int s_check_links (s_section_t *self, s_sections_t *sections, const char *file,
                          zhash_t *lines)
{
    bool source = self->role == ZFLOW_ADAPTER_SOURCE;
    int line = s_line (lines, self->name, "input");
    if (source && self->input) {
        fprintf (stderr, "%s:%d: section '%s': a source (type '%s') takes no 'input'\n", file, line,
                 self->name, self->adapter->name);
        return 1;
    }
    if (!source && (!self->input || !*self->input)) {
        fprintf (stderr,
                 "%s:%d: section '%s': missing required option 'input' (sections it reads)\n", file,
                 s_line (lines, self->name, NULL), self->name);
        return 1;
    }
    int errors = 0;
    char *copy = strdup (self->input ? self->input : "");
    char *save = NULL;
    for (char *word = strtok_r (copy, ", ", &save); word; word = strtok_r (NULL, ", ", &save)) {
        s_section_t *from = s_find (sections, word);
        if (!from) {
            fprintf (stderr, "%s:%d: section '%s': option 'input': '%s' names no section\n", file,
                     line, self->name, word);
            errors++;
        } else if (from->role == ZFLOW_ADAPTER_SINK) {
            fprintf (stderr,
                     "%s:%d: section '%s': option 'input': '%s' is a sink (type '%s'), it has no "
                     "output\n",
                     file, line, self->name, word, from->type);
            errors++;
        } else
            from->read = true;
    }
    free (copy);
    return errors;
}

//  A binary min-heap of section places, for s_build.
typedef struct {
    size_t *items; //  the heap (owned)
    size_t size;   //  items in it
} s_heap_t;

static void s_heap_push (s_heap_t *heap, size_t value)
{
    size_t at = heap->size++;
    for (; at && heap->items[(at - 1) / 2] > value; at = (at - 1) / 2)
        heap->items[at] = heap->items[(at - 1) / 2];
    heap->items[at] = value;
}

static size_t s_heap_pop (s_heap_t *heap)
{
    size_t top = heap->items[0], last = heap->items[--heap->size], at = 0;
    for (size_t child; (child = 2 * at + 1) < heap->size; at = child) {
        if (child + 1 < heap->size && heap->items[child + 1] < heap->items[child])
            child++;
        if (heap->items[child] >= last)
            break;
        heap->items[at] = heap->items[child];
    }
    heap->items[at] = last;
    return top;
}

//  The links between sections as a compact table: the readers of section
//  i are readers[first[i]] to readers[first[i + 1] - 1]; sets each
//  section's pending count. Returns first (readers in *readers_p), both
//  for the caller to free.
static size_t *s_readers (s_section_t **all, size_t n, s_sections_t *sections, size_t **readers_p)
{
    size_t *first = (size_t *) zmalloc (sizeof (size_t) * (n + 2));
    for (int pass = 0; pass < 2; pass++) {
        //  pass 0 counts each section's readers; pass 1 places them
        for (size_t i = 0; i < n; i++) {
            char *copy = strdup (all[i]->input ? all[i]->input : ""), *save = NULL;
            for (char *word = strtok_r (copy, ", ", &save); word;
                 word = strtok_r (NULL, ", ", &save)) {
                s_section_t *from = s_find (sections, word);
                if (pass == 0) {
                    first[from->order + 2]++;
                    all[i]->pending++;
                } else
                    (*readers_p)[first[from->order + 1]++] = i;
            }
            free (copy);
        }
        if (pass == 0) {
            for (size_t i = 2; i < n + 2; i++)
                first[i] += first[i - 1];
            *readers_p = (size_t *) zmalloc (sizeof (size_t) * (first[n + 1] + 1));
        }
    }
    return first;
}

//  Adds one section to the pipeline. Returns 0 or -1 (reported).
static int s_add_one (zflow_pipeline_t *pipeline, s_section_t *s, const char *file, zhash_t *lines)
{
    char err[512] = "";
    zflow_adapter_add_fn *add = s->role == ZFLOW_ADAPTER_SOURCE ? s->adapter->source
                                : s->role == ZFLOW_ADAPTER_SINK ? s->adapter->sink
                                                                : s->adapter->stage;
    s->built = true;
    if ((s->input && zflow_pipeline_from (pipeline, s->input)) || !add ||
        add (pipeline, s->name, s->config, err, sizeof (err)) ||
        (s->own_thread && zflow_pipeline_stage_own_thread (pipeline, s->name, true))) {
        fprintf (stderr, "%s:%d: section '%s': %s\n", file, s_line (lines, s->name, NULL), s->name,
                 *err ? err : zflow_pipeline_error_text (pipeline));
        return -1;
    }
    return 0;
}

//  Adds the sections to the pipeline, each after all of its inputs, in
//  O((sections + links) log sections): the order is that of passes over
//  the file adding every section whose inputs are in, but each pass takes
//  only the sections that became ready (a heap of the ones ahead of the
//  pass, one for the next pass).
static int s_build (zflow_pipeline_t *pipeline, s_sections_t *sections, const char *file,
                    zhash_t *lines)
{
    size_t n = zlistx_size (sections->list);
    s_section_t **all = (s_section_t **) zmalloc (sizeof (s_section_t *) * (n + 1));
    size_t count = 0;
    for (s_section_t *s = (s_section_t *) zlistx_first (sections->list); s;
         s = (s_section_t *) zlistx_next (sections->list)) {
        s->order = count;
        all[count++] = s;
    }
    size_t *readers = NULL;
    size_t *first = s_readers (all, n, sections, &readers);
    s_heap_t now = {(size_t *) zmalloc (sizeof (size_t) * (n + 1)), 0};
    s_heap_t next = {(size_t *) zmalloc (sizeof (size_t) * (n + 1)), 0};
    for (size_t i = 0; i < n; i++)
        if (all[i]->pending == 0)
            s_heap_push (&now, i);
    int rc = 0;
    while (rc == 0 && (now.size || next.size)) {
        if (now.size == 0) { //  a new pass over the file
            s_heap_t swap = now;
            now = next;
            next = swap;
        }
        size_t at = s_heap_pop (&now);
        rc = s_add_one (pipeline, all[at], file, lines);
        for (size_t r = first[at]; r < first[at + 1]; r++)
            if (--all[readers[r]]->pending == 0)
                s_heap_push (readers[r] > at ? &now : &next, readers[r]);
    }
    for (size_t i = 0; i < n && rc == 0; i++)
        if (!all[i]->built) {
            fprintf (stderr, "%s:%d: section '%s': its inputs form a cycle\n", file,
                     s_line (lines, all[i]->name, "input"), all[i]->name);
            rc = -1;
        }
    free (now.items);
    free (next.items);
    free (first);
    free (readers);
    free (all);
    return rc;
}

static void s_section_free (void **item_p)
{
    s_section_t *self = (s_section_t *) *item_p;
    if (self) {
        free (self->config);
        free (self);
        *item_p = NULL;
    }
}

//  Checks every section; returns the number of errors reported.
static int s_check_all (zconfig_t *root, s_sections_t *sections, const char *file, zhash_t *lines,
                        zflow_cli_global_t *global)
{
    int errors = 0;
    char err[768];
    zconfig_t *settings = zconfig_locate (root, "zflow");
    zconfig_t *empty = settings ? NULL : zconfig_new ("zflow", NULL);
    const char *option = NULL;
    if (zflow_adapter_parse (&zflow_cli_global, "zflow", 0, settings ? settings : empty, NULL,
                             global, &option, err, sizeof (err))) {
        fprintf (stderr, "%s:%d: section 'zflow': %s\n", file, s_line (lines, "zflow", option),
                 err);
        errors++;
    }
    zconfig_destroy (&empty);
    for (zconfig_t *node = zconfig_child (root); node; node = zconfig_next (node)) {
        if (streq (zconfig_name (node), "zflow"))
            continue;
        s_section_t *section = s_check_section (node, file, lines);
        if (section && !s_find (sections, section->name)) {
            zlistx_add_end (sections->list, section);
            zhash_insert (sections->index, section->name, section);
        } else if (section) {
            void *item = section;
            s_section_free (&item);
        } else
            errors++;
    }
    if (zlistx_size (sections->list) == 0 && errors == 0) {
        fprintf (stderr, "%s:1: no stage sections (see: zflow help)\n", file);
        errors++;
    }
    for (s_section_t *s = (s_section_t *) zlistx_first (sections->list); s;
         s = (s_section_t *) zlistx_next (sections->list))
        errors += s_check_links (s, sections, file, lines);
    for (s_section_t *s = (s_section_t *) zlistx_first (sections->list); s && errors == 0;
         s = (s_section_t *) zlistx_next (sections->list))
        if (!s->read && s->role != ZFLOW_ADAPTER_SINK) {
            fprintf (stderr,
                     "%s:%d: section '%s': nothing reads its output (no section has input = %s)\n",
                     file, s_line (lines, s->name, NULL), s->name, s->name);
            errors++;
        }
    return errors;
}

//  Finds what zconfig cannot read in text when the scanner found nothing:
//  the first line whose prefix of the file zconfig refuses (found by
//  bisection, so a few loads). Returns that line number (1 if none).
static int s_bisect (const char *text)
{
    size_t lines = 1;
    for (const char *c = text; *c; c++)
        lines += *c == '\n';
    size_t good = 0, bad = lines; //  prefix of good lines loads; of bad lines does not
    while (bad - good > 1) {
        size_t middle = good + (bad - good) / 2, seen = 0;
        const char *cut = text;
        while (*cut && seen < middle)
            seen += *cut++ == '\n';
        char *prefix = strndup (text, (size_t) (cut - text));
        zconfig_t *root = prefix ? zconfig_str_load (prefix) : NULL;
        if (root)
            good = middle;
        else
            bad = middle;
        zconfig_destroy (&root);
        free (prefix);
    }
    return (int) bad;
}

//  Reads file into a string, refusing what zconfig would misread without
//  a word: a NUL byte (zconfig stops there) and a byte order mark. Returns
//  the text, or NULL (reported).
static char *s_read (const char *file)
{
    zchunk_t *chunk = zchunk_slurp (file, 0);
    if (!chunk) {
        fprintf (stderr, "%s: cannot read the file: %s\n", file, strerror (errno ? errno : ENOENT));
        return NULL;
    }
    const char *data = (const char *) zchunk_data (chunk);
    size_t size = zchunk_size (chunk);
    const char *nul = size ? memchr (data, 0, size) : NULL;
    char *text = NULL;
    if (nul) {
        int line = 1;
        for (const char *c = data; c < nul; c++)
            line += *c == '\n';
        fprintf (stderr, "%s:%d: not valid ZPL: a NUL byte (at byte %zu; a binary file?)\n", file,
                 line, (size_t) (nul - data) + 1);
    } else if (size >= 3 && memcmp (data, "\xef\xbb\xbf", 3) == 0)
        fprintf (stderr,
                 "%s:1: not valid ZPL: a UTF-8 byte order mark at the start (save the file "
                 "without BOM)\n",
                 file);
    else
        text = zchunk_strdup (chunk);
    zchunk_destroy (&chunk);
    return text;
}

int zflow_cli_load (const char *file, zflow_pipeline_t **pipeline_p, zflow_cli_global_t *global,
                    zconfig_t **config_p)
{
    *pipeline_p = NULL;
    *config_p = NULL;
    char *text = s_read (file);
    if (!text)
        return -1;
    int error_line = 0;
    const char *error = NULL;
    zhash_t *lines = s_scan_lines (text, &error_line, &error);
    zconfig_t *root = error ? NULL : zconfig_str_load (text);
    if (!root && !error) {
        error_line = s_bisect (text);
        error = "zconfig cannot read this line (names, 'name = value' lines, 4-space indents)";
    }
    free (text);
    if (!root) {
        fprintf (stderr, "%s:%d: not valid ZPL: %s\n", file, error_line, error);
        zhash_destroy (&lines);
        return -1;
    }
    s_sections_t sections = {zlistx_new (), zhash_new ()};
    zlistx_set_destructor (sections.list, s_section_free);
    int rc = s_check_all (root, &sections, file, lines, global) ? -1 : 0;
    zflow_pipeline_t *pipeline = NULL;
    if (rc == 0) {
        zflow_pipeline_config_t config = {.name = "zflow",
                                          .mode = (zflow_pipeline_mode_t) global->mode,
                                          .hwm = (int) global->hwm};
        if (global->hwm < 1 || global->hwm > 1000000 ||
            !(pipeline = zflow_pipeline_new (&config, NULL))) {
            fprintf (stderr, "%s:%d: section 'zflow': option 'hwm': must be 1 to 1000000\n", file,
                     s_line (lines, "zflow", "hwm"));
            rc = -1;
        }
        if (rc == 0)
            rc = s_build (pipeline, &sections, file, lines);
    }
    zhash_destroy (&sections.index);
    zlistx_destroy (&sections.list);
    zhash_destroy (&lines);
    if (rc) {
        zflow_pipeline_destroy (&pipeline);
        zconfig_destroy (&root);
    }
    *pipeline_p = pipeline;
    *config_p = root;
    return rc;
}
