#!/usr/bin/env python3
"""Converts the Markdown of scripts/cli-reference.py into a man page (roff).

    md2man.py [--name NAME] [--section N] [--source TEXT] [--manual TEXT] IN.md OUT

IN.md may be - (stdin), OUT may be - (stdout). The subset it reads is the one
the reference uses, and anything else is refused rather than guessed at:

    ## Heading                 .SH HEADING
    ### Heading                .SS Heading
    paragraphs                 .PP, lines joined
    - item                     .IP \\(bu 2
    indented or ``` blocks     .nf / .fi, verbatim
    | a | b | tables           .TP per row: the first cell as the tag, the
                               middle cells as "header: value", the last cell
                               as the text
    `code` **bold** *emph*     \\fB \\fB \\fI
    [text](url)                text <url>

Exit status: 0, 1 on input it cannot convert (an unclosed ``` fence, a table
row with the wrong number of cells, a heading level it does not know), with
the line number on stderr; 2 on a usage error.

Python 3 standard library only.
"""
import re
import sys


class Error(Exception):
    """Input md2man cannot convert, with its line number."""

    def __init__(self, line, text):
        super().__init__("line %d: %s" % (line, text))


def escape(text):
    """Escapes text for roff: backslashes, and any non-ASCII as \\[uXXXX]."""
    text = text.replace("\\", "\\e")
    return "".join(c if ord(c) < 128 else "\\[u%04X]" % ord(c) for c in text)


def line_safe(text):
    """Guards a line that would start with a control character."""
    return "\\&" + text if text.startswith((".", "'")) else text


def inline(text):
    """Markdown inline markup to roff font changes, text escaped."""
    out = []
    pattern = re.compile(r"`([^`]+)`|\*\*([^*]+)\*\*|\*([^*\s][^*]*)\*|\[([^\]]+)\]\(([^)]+)\)")
    pos = 0
    for match in pattern.finditer(text):
        out.append(escape(text[pos:match.start()]))
        code, bold, emph, label, url = match.groups()
        if code is not None:
            out.append("\\fB" + escape(code).replace("-", "\\-") + "\\fR")
        elif bold is not None:
            out.append("\\fB" + escape(bold) + "\\fR")
        elif emph is not None:
            out.append("\\fI" + escape(emph) + "\\fR")
        else:
            out.append(escape(label) + " <" + escape(url) + ">")
        pos = match.end()
    out.append(escape(text[pos:]))
    return "".join(out)


def cells(row):
    """The cells of a table row '| a | b |'."""
    return [cell.strip() for cell in row.strip().strip("|").split("|")]


def table(rows, first):
    """A Markdown table as .TP entries; first is the line number of its header."""
    header = cells(rows[0])
    if len(rows) < 2 or not re.fullmatch(r"\|?(\s*:?-+:?\s*\|)*\s*:?-+:?\s*\|?", rows[1].strip()):
        raise Error(first + 1, "a table needs a |---| line under its header")
    out = []
    for index, row in enumerate(rows[2:], start=first + 2):
        values = cells(row)
        if len(values) != len(header):
            raise Error(index, "%d cells where the header has %d" % (len(values), len(header)))
        out += [".TP", line_safe(inline(values[0]))]
        details = ["%s: %s" % (name, value) for name, value in zip(header[1:-1], values[1:-1])
                   if value]
        if details:
            out += [line_safe(inline("; ".join(details)) + "."), ".br"]
        if len(header) > 1:
            out.append(line_safe(inline(values[-1])))
    return out


def verbatim(lines):
    """Lines shown as they are (no fill, no adjust)."""
    out = [".PP", ".RS 4", ".nf"]
    out += [line_safe(escape(line).replace("-", "\\-")) if line else "" for line in lines]
    return out + [".fi", ".RE"]


def convert(text, name, section, source, manual):
    """Returns the man page for Markdown text."""
    out = ['.TH "%s" "%s" "" "%s" "%s"' % (name.upper(), section, escape(source), escape(manual))]
    lines = text.split("\n")
    section_name = False  # inside NAME, where "name - what" wants "\\-" (whatis reads it)
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.strip():
            i += 1
        elif line.startswith("```"):
            end = next((j for j in range(i + 1, len(lines)) if lines[j].startswith("```")), None)
            if end is None:
                raise Error(i + 1, "a ``` block that is never closed")
            out += verbatim(lines[i + 1:end])
            i = end + 1
        elif line.startswith("    "):
            block = []
            while i < len(lines) and (lines[i].startswith("    ") or not lines[i].strip()):
                block.append(lines[i][4:])
                i += 1
            while block and not block[-1]:
                block.pop()
            out += verbatim(block)
        elif line.startswith("#"):
            level = len(line) - len(line.lstrip("#"))
            title = line[level:].strip()
            if level == 2:
                out.append('.SH "%s"' % inline(title.upper()))
                section_name = title.upper() == "NAME"
            elif level == 3:
                out.append('.SS "%s"' % inline(title))
            else:
                raise Error(i + 1, "heading level %d (only ## and ###)" % level)
            i += 1
        elif line.startswith("|"):
            start = i
            while i < len(lines) and lines[i].startswith("|"):
                i += 1
            out += table(lines[start:i], start + 1)
        elif line.startswith("<!--"):
            i += 1
        else:
            bullet = line.startswith("- ")
            para = [line[2:] if bullet else line]
            i += 1
            while (i < len(lines) and lines[i].strip() and
                   not lines[i].startswith(("#", "|", "```", "- ", "    "))):
                para.append(lines[i].strip())
                i += 1
            text = line_safe(inline(" ".join(para)))
            if section_name:
                text = text.replace(" - ", " \\- ", 1)
            out += [".IP \\(bu 2" if bullet else ".PP", text]
    return "\n".join(out) + "\n"


def main(argv):
    options = {"--name": "zflow", "--section": "1", "--source": "zflow",
               "--manual": "User Commands"}
    args = argv[1:]
    while len(args) > 2 and args[0] in options:
        options[args[0]] = args[1]
        args = args[2:]
    if len(args) != 2:
        sys.stderr.write("usage: md2man.py [--name NAME] [--section N] [--source TEXT] "
                         "[--manual TEXT] IN.md OUT\n")
        return 2
    source = sys.stdin if args[0] == "-" else open(args[0], encoding="utf-8")
    with source:
        text = source.read()
    try:
        page = convert(text, options["--name"], options["--section"], options["--source"],
                       options["--manual"])
    except Error as error:
        sys.stderr.write("md2man: %s: %s\n" % (args[0], error))
        return 1
    if args[1] == "-":
        sys.stdout.write(page)
    else:
        with open(args[1], "w", encoding="utf-8") as file:
            file.write(page)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
