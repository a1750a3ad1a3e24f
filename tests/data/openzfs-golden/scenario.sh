# The pool the golden recordings of real OpenZFS are made on (tests/data/openzfs-golden/README.md).
# tests/orchestrator/fake_zfs_golden_test.cpp builds the same state in the fake zfs: change both.
set -e
truncate -s 128M /var/tmp/zgold.img
zpool create -O mountpoint=none zgold /var/tmp/zgold.img
zfs create zgold/a
zfs set zsend:job=true zgold/a
zfs create zgold/a/b
zfs create zgold/c
zfs snapshot zgold/a@s1
zfs snapshot -r zgold/a@s2
zfs hold keep zgold/a@s1
zfs clone zgold/a@s1 zgold/k
zfs send -p zgold/a@s2 | zfs receive zgold/r
