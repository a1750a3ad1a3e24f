// The usage text of the legacy zfs flavour the fake reproduces, as `zfs -?` prints it: Debian
// zfs-fuse 0.7's output captured on the test machine. OpenZFS's comes from the golden
// recordings of real OpenZFS 2.1 (tests/data/openzfs-golden/recorded.txt).
#pragma once

namespace zsend::test {

inline constexpr const char kLegacyUsage[] =
    "usage: zfs command args ...\n"
    "where 'command' is one of the following:\n"
    "\n"
    "\tcreate [-p] [-o property=value] ... <filesystem>\n"
    "\tcreate [-ps] [-b blocksize] [-o property=value] ... -V <size> <volume>\n"
    "\tdestroy [-rRf] <filesystem|volume>\n"
    "\tdestroy [-rRd] <snapshot>\n"
    "\n"
    "\tsnapshot [-r] [-o property=value] ... <filesystem@snapname|volume@snapname>\n"
    "\trollback [-rRf] <snapshot>\n"
    "\tclone [-p] [-o property=value] ... <snapshot> <filesystem|volume>\n"
    "\tpromote <clone-filesystem>\n"
    "\tlist [-rH][-d max] [-o property[,...]] [-t type[,...]] [-s property] ...\n"
    "\t    [-S property] ... [filesystem|volume|snapshot] ...\n"
    "\n"
    "\tset <property=value> <filesystem|volume|snapshot> ...\n"
    "\tget [-rHp] [-d max] [-o \"all\" | field[,...]] [-s source[,...]]\n"
    "\t    <\"all\" | property[,...]> [filesystem|volume|snapshot] ...\n"
    "\tinherit [-rS] <property> <filesystem|volume|snapshot> ...\n"
    "\n"
    "\tsend [-RDp] [-[iI] snapshot] <snapshot>\n"
    "\treceive [-vnF] <filesystem|volume|snapshot>\n"
    "\treceive [-vnF] -d <filesystem>\n"
    "\n"
    "\thold [-r] <tag> <snapshot> ...\n"
    "\tholds [-r] <snapshot> ...\n"
    "\trelease [-r] <tag> <snapshot> ...\n"
    "\n"
    "Each dataset is of the form: pool/[dataset/]*dataset[@name]\n";

}  // namespace zsend::test
