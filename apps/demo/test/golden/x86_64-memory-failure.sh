# zonedev run -m 2G --cmdline 'memmap=256M!4G'
# Memory failure (mm/memory-failure.c): hard and soft offlining of a page through sysfs.
ls -l /sys/devices/system/memory/hard_offline_page /sys/devices/system/memory/soft_offline_page
grep HardwareCorrupted /proc/meminfo
process start
process mmap 100 16K
process write 100 0x7ffff7ffb000 Hello, poison!
process write 100 0x7ffff7ffc000 Still fine
process pte 100 0x7ffff7ffb000
process pte 100 0x7ffff7ffc000
# A free page: taken off the buddy allocator.
page 0x40000
dmesg -C
echo 0x40000000 > /sys/devices/system/memory/hard_offline_page
dmesg
page 0x40000
# The process's first page: unmapped, its PTE a hwpoison entry; the next access is SIGBUS.
dmesg -C
echo 0x2e03000 > /sys/devices/system/memory/hard_offline_page
dmesg
process pte 100 0x7ffff7ffb000
process read 100 0x7ffff7ffb000 14
page 0x2e03
# Twice: "already hardware poisoned".
dmesg -C
echo 0x2e03000 > /sys/devices/system/memory/hard_offline_page
echo $?
dmesg
# Soft offline: the second page moves away with its contents; the old frame is poisoned.
dmesg -C
echo 0x7ffb4000 > /sys/devices/system/memory/soft_offline_page
dmesg
process pte 100 0x7ffff7ffc000
process read 100 0x7ffff7ffc000 10
page 0x7ffb4
echo 0x7ffb4000 > /sys/devices/system/memory/soft_offline_page
dmesg
# Soft offline of a free page takes it off the buddy lists; a kernel page (the memmap) is refused.
dmesg -C
echo 0x40002000 > /sys/devices/system/memory/soft_offline_page
echo 0x7ee00000 > /sys/devices/system/memory/soft_offline_page
dmesg
grep HardwareCorrupted /proc/meminfo
# A reserved kernel page, a number kstrtoull refuses, memory outside the kernel's control.
dmesg -C
echo 0x1000 > /sys/devices/system/memory/hard_offline_page
echo 0x1000 > /sys/devices/system/memory/soft_offline_page
echo 0x12g > /sys/devices/system/memory/hard_offline_page
echo 0x200000000 > /sys/devices/system/memory/hard_offline_page
echo 0x200000000 > /sys/devices/system/memory/soft_offline_page
dmesg
# ZONE_DEVICE: the legacy pmem as device DAX; its memmap pfns are ENXIO, its pages cannot be locked.
ndctl create-namespace -f -e namespace0.0 -m devdax
dmesg -C
echo 0x100000000 > /sys/devices/system/memory/hard_offline_page
echo 0x108000000 > /sys/devices/system/memory/hard_offline_page
echo 0x108000000 > /sys/devices/system/memory/soft_offline_page
dmesg
grep HardwareCorrupted /proc/meminfo
