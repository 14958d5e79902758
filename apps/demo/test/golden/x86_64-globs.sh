# zonedev run -m 2G
# Globs over /sys as bash expands them: sorted in byte order, a word that matches nothing stays as it is.
grep . /sys/devices/system/memory/memory*/valid_zones
echo /sys/devices/system/memory/memory1?
echo /sys/devices/system/memory/memory[0-3]
echo /sys/devices/system/memory/memory[!0-9]*
ls /sys/devices/system/memory/nothing*
echo /sys/devices/system/memory/nothing* "/sys/devices/system/memory/memory*" '/sys/*'
cat /sys/devices/system/memory/memory1[0-5]/state
echo /sys/devices/system/node/node*/memory1
cd /sys/devices/system/memory
echo memory?/online
ls -l memory0
for b in memory1*; do echo $b; cat $b/state; done
echo $?
