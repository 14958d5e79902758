# zonedev run --platform powerpc -m 2G,slots=2,maxmem=4G --numa 2
# Boot of a pseries guest: the device tree, 64K pages, 16 MiB sections, 256 MiB LMBs.
dmesg
lsmem
lsmem -o RANGE,SIZE,STATE,BLOCK,NODE,ZONES
cat /proc/iomem
cat /proc/meminfo
cat /proc/zoneinfo
cat /proc/buddyinfo
ls /sys/firmware/devicetree/base
ls /sys/firmware/devicetree/base/ibm,dynamic-reconfiguration-memory
cat /sys/devices/system/memory/block_size_bytes
cat /sys/module/memory_hotplug/parameters/memmap_on_memory
cat /sys/devices/system/node/possible /sys/devices/system/node/has_memory /sys/devices/system/node/has_cpu
pageflags
pageflags --2015
page 0x0
page 0x3e00
page 0x4000
