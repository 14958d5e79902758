# zonedev run -m 2G
# hwpoison-inject (mm/hwpoison-inject.c, CONFIG_HWPOISON_INJECT=m): software memory failure and unpoison through debugfs.
ls /sys/kernel/debug/hwpoison
modprobe hwpoison_inject
ls -l /sys/kernel/debug/hwpoison
cat /sys/kernel/debug/hwpoison/corrupt-filter-enable /sys/kernel/debug/hwpoison/corrupt-filter-dev-major /sys/kernel/debug/hwpoison/corrupt-filter-flags-mask
cat /sys/kernel/debug/hwpoison/corrupt-pfn
process start
process mmap 100 8K
process write 100 0x7ffff7ffd000 Hello, poison!
process pte 100 0x7ffff7ffd000
# A free page: poisoned (and taken off the buddy allocator), then unpoisoned: back to the buddy lists.
dmesg -C
echo 0x40000 > /sys/kernel/debug/hwpoison/corrupt-pfn
dmesg
grep HardwareCorrupted /proc/meminfo
page 0x40000
dmesg -C
echo 0x40000 > /sys/kernel/debug/hwpoison/unpoison-pfn
dmesg
grep HardwareCorrupted /proc/meminfo
page 0x40000
# The process's page: unmapped, its PTE a hwpoison entry; unpoisoned once the process has exited.
dmesg -C
echo 0x2e03 > /sys/kernel/debug/hwpoison/corrupt-pfn
dmesg
process pte 100 0x7ffff7ffd000
process read 100 0x7ffff7ffd000 14
grep HardwareCorrupted /proc/meminfo
process exit 100
dmesg -C
echo 0x2e03 > /sys/kernel/debug/hwpoison/unpoison-pfn
echo 0x2e03 > /sys/kernel/debug/hwpoison/unpoison-pfn
dmesg
grep HardwareCorrupted /proc/meminfo
page 0x2e03
# A reserved kernel page keeps the kernel's reference: memory failure fails, unpoison leaves it.
dmesg -C
echo 0x1 > /sys/kernel/debug/hwpoison/corrupt-pfn
echo $?
echo 0x1 > /sys/kernel/debug/hwpoison/unpoison-pfn
dmesg
grep HardwareCorrupted /proc/meminfo
# With the filters on, only LRU pages that match are poisoned; the others are skipped silently.
echo 1 > /sys/kernel/debug/hwpoison/corrupt-filter-enable
dmesg -C
echo 0x40000 > /sys/kernel/debug/hwpoison/corrupt-pfn
echo $?
dmesg
echo 0 > /sys/kernel/debug/hwpoison/corrupt-filter-enable
# Numbers kstrtoull refuses, and pfns without a struct page.
echo 0x12g > /sys/kernel/debug/hwpoison/corrupt-pfn
echo -1 > /sys/kernel/debug/hwpoison/unpoison-pfn
echo 18446744073709551616 > /sys/kernel/debug/hwpoison/corrupt-pfn
echo 0x200000 > /sys/kernel/debug/hwpoison/corrupt-pfn
echo 0x200000 > /sys/kernel/debug/hwpoison/unpoison-pfn
echo 2 > /sys/kernel/debug/hwpoison/corrupt-filter-dev-major
cat /sys/kernel/debug/hwpoison/corrupt-filter-dev-major
rmmod hwpoison_inject
ls /sys/kernel/debug
