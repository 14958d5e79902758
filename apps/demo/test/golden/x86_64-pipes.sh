# zonedev run -m 2G,slots=2,maxmem=4G
# Pipes, lists, loops and variables: the lines a student types at a memory-hotplug prompt.
object_add memory-backend-ram,id=mem1,size=1G
device_add pc-dimm,id=dimm1,memdev=mem1
cat /sys/devices/system/memory/memory*/state | sort | uniq -c
grep . /sys/devices/system/memory/memory*/valid_zones | grep -v DMA32
for b in /sys/devices/system/memory/memory3*; do echo online > $b/state; done
cat /sys/devices/system/memory/memory*/state | sort | uniq -c
for b in /sys/devices/system/memory/memory3?; do echo offline > $b/state || break; done; echo $? $b
grep -l offline /sys/devices/system/memory/memory*/state | wc -l
grep -c online /sys/devices/system/memory/memory*/state | grep -v ':1$' | head -n 3
grep -H . /sys/devices/system/memory/memory1/* 2>/dev/null | cut -d: -f2- | sort -u
M=/sys/devices/system/memory; echo $M; cat $M/block_size_bytes
ls $M | grep -c memory
ls $M | grep memory | tail -n 3 | xargs -n 1 echo block
echo online > $M/memory0/state && echo ok || echo failed: $?
echo offline > $M/memory0/state && echo ok || echo failed: $?
grep . $M/memory0/state /nope; echo status $?
wc $M/memory0/state /proc/cmdline
cat /proc/iomem | grep -i 'system ram' | wc -l
grep -n Node /proc/zoneinfo | head -2
x=1; export x; export -p | grep x=
dmesg | grep -c memory
for x in a b; do for y in 1 2; do echo $x$y; break; done; done
! true; echo $?
for b in /sys/devices/system/memory/memory3[2-4]; do if [ "$(cat $b/state)" = offline ]; then echo online_movable > $b/state && echo ${b##*/} now $(cat $b/valid_zones); fi; done
