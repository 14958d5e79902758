# zonedev run
# help CMD prints a command's usage; help shell lists the grammar and the standard commands.
help grep
help cd export sort
help ls head
help shell
help nosuch; echo $?
grep
grep -z x /proc/cmdline
cut /proc/cmdline
wc -x
sort /nope; echo $?
cd /nope; echo $?
cd /proc/cmdline
cd a b
break
