# zonedev run -m 4G --cmdline 'memmap=1G!4G'
# Legacy pmem from memmap=: the e820 provider, ndctl v72, /dev/pmem0, fsdax with the memmap in the device or in RAM.
ls /sys/bus/nd/devices
cat /sys/bus/nd/devices/ndbus0/provider
cat /sys/bus/nd/devices/region0/size /sys/bus/nd/devices/region0/align /sys/bus/nd/devices/region0/nstype
cat /sys/bus/nd/devices/namespace0.0/mode /sys/bus/nd/devices/namespace0.0/size
ndctl list -BRN
ndctl list -RNu
echo 'Hello, pmem' > /dev/pmem0
head -c 12 /dev/pmem0
dd if=/dev/pmem0 of=/dev/pmem0 bs=4096 count=1 seek=256 conv=notrunc
dd if=/dev/pmem0 bs=1 skip=1048576 count=12
ndctl create-namespace
ndctl create-namespace -f -e namespace0.0 -s 16M
ndctl create-namespace -e namespace0.0 -m fsdax
ndctl create-namespace -f -e namespace0.0 -a 3M
ndctl create-namespace -f -e namespace0.0 -m fsdax -M dev
ndctl list -u
cat /sys/bus/nd/devices/pfn0.0/mode /sys/bus/nd/devices/pfn0.0/align /sys/bus/nd/devices/pfn0.0/resource /sys/bus/nd/devices/pfn0.0/size
cat /sys/bus/nd/devices/region0/pfn_seed
page 0x101200
echo 'fsdax data' > /dev/pmem0
head -c 11 /dev/pmem0
ndctl create-namespace -f -e namespace0.0 -m fsdax -M mem
page 0x100000
ndctl destroy-namespace namespace0.0
ndctl destroy-namespace -f namespace0.0
ndctl list -i
ndctl enable-namespace namespace0.0
ndctl disable-region all
ls /dev
ndctl enable-region region0
cat /proc/iomem
