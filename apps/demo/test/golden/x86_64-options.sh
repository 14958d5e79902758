# zonedev run -m 3G,slots=4,maxmem=8G --cmdline 'mem=2G memhp_default_state=online_movable movable_node foo bar=1 memory_hotplug.memmap_on_memory=maybe quiet.log=1'
# Boot options: mem=, memhp_default_state=, movable_node, unknown and rejected parameters.
dmesg
cat /proc/cmdline
cat /sys/devices/system/memory/auto_online_blocks
cat /sys/module/memory_hotplug/parameters/memmap_on_memory
lsmem -o RANGE,SIZE,STATE,BLOCK,NODE,ZONES
object_add memory-backend-ram,id=mem1,size=256M
device_add pc-dimm,id=dimm1,memdev=mem1
lsmem -o RANGE,SIZE,STATE,BLOCK,NODE,ZONES
echo offline > /sys/devices/system/memory/memory32/state
cat /sys/devices/system/memory/memory32/valid_zones
echo online > /sys/devices/system/memory/memory32/state
cat /sys/devices/system/memory/memory32/valid_zones
echo offline > /sys/devices/system/memory/auto_online_blocks
echo 0x400000000 > /sys/devices/system/memory/probe
cat /sys/devices/system/memory/memory128/state /sys/devices/system/memory/memory128/valid_zones
page 0x100000
