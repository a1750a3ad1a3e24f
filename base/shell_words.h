// Shell words: the one quoting and the one splitting of zsend and zsend-engine.
//
// ShellQuote makes a word a POSIX shell reads back as exactly that word: bare when it holds only
// characters no shell treats specially (letters, digits and "_@%+=:,./-"), else in single quotes
// with each embedded quote written as '\''. Every byte but NUL survives (a C argv cannot hold
// NUL). It is used for the remote command of ssh (the far side runs it through the login shell)
// and to show a command line in messages, dry runs and debug output.
//
// ShellSplit reads a command line back into words as sh splits them, without running a shell:
// blanks (space, tab, newline) separate words; single quotes keep everything up to the next
// quote; double quotes keep everything but the backslash escapes of \" \\ \$ \` and
// backslash-newline; a backslash outside quotes keeps the next character. No expansion of any
// kind ($VAR, *, ~, `...`), no pipes or redirections: those characters are kept as they are.
// ShellSplit(ShellJoin(argv)) == argv for every argv of non-empty words without NUL.
//
// Pure functions of their arguments; thread-safe.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"

namespace zsend {

// One word quoted for a POSIX shell: "pool/fs@snap" stays bare, "a b" becomes 'a b',
// "it's" becomes 'it'\''s', "" becomes ''.
std::string ShellQuote(const std::string& word);

// The argv as one shell command line: each word quoted by ShellQuote, joined by single spaces.
std::string ShellJoin(const std::vector<std::string>& argv);

// Splits `text` into words as sh would (without expansions). kInvalidArgument for an
// unterminated quote, a trailing backslash, or a line with no word at all.
Result<std::vector<std::string>> ShellSplit(const std::string& text);

}  // namespace zsend
