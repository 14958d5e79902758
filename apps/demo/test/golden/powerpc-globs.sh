# zonedev run --platform powerpc -m 2G
# Globs, pipes and ls -l on pseries: 64 KiB pages, so every sysfs attribute is 65536 bytes long to stat().
grep . /sys/devices/system/memory/memory*/valid_zones | head -n 4
ls /sys/devices/system/memory | grep -c '^memory'
ls -l /sys/devices/system/memory/memory0
wc /sys/devices/system/memory/memory[01]/state
for b in /sys/devices/system/memory/memory1?; do echo ${b##*/} $(cat $b/state); done | sort | head -n 3
echo "block size 0x$(cat /sys/devices/system/memory/block_size_bytes)"
