# zonedev run -m 4G --cmdline 'memmap=1G!4G'
# BTT log padding: a v5.13 BTT uses log slots (0,1), a pre-4.15 one (0,2); debugfs shows which, and ndctl check-namespace --rewrite-log converts (ndctl's btt-pad-compat.sh).
ndctl create-namespace -f -e namespace0.0 -m sector
bttdev=$(cat /sys/bus/nd/devices/namespace0.0/holder); echo $bttdev
ls /sys/kernel/debug/btt/$bttdev/arena0
cd /sys/kernel/debug/btt/$bttdev/arena0; cat size external_nlba internal_lbasize version_major version_minor logoff log_index_0 log_index_1; cd /
echo 'sector one' | dd of=/dev/pmem0s bs=4096 seek=1
slot=$(( (4096 + $(cat /sys/kernel/debug/btt/$bttdev/arena0/logoff)) / 16 )); echo $slot
ndctl disable-namespace namespace0.0; echo 1 > /sys/bus/nd/devices/namespace0.0/force_raw; ndctl enable-namespace namespace0.0
dd if=/dev/pmem0 of=/dev/pmem0 bs=16 skip=$(( slot + 1 )) seek=$(( slot + 2 )) count=1 conv=notrunc
dd if=/dev/zero of=/dev/pmem0 bs=16 seek=$(( slot + 1 )) count=1 conv=notrunc
ndctl disable-namespace namespace0.0; echo 0 > /sys/bus/nd/devices/namespace0.0/force_raw; ndctl enable-namespace namespace0.0
cat /sys/kernel/debug/btt/btt0.0/arena0/log_index_0 /sys/kernel/debug/btt/btt0.0/arena0/log_index_1
dd if=/dev/pmem0s bs=4096 skip=1 count=1 2>/dev/null | head -c 11
echo 'sector two' | dd of=/dev/pmem0s bs=4096 seek=2
echo 0x2 > /sys/kernel/debug/btt/btt0.0/arena0/log_index_1
ndctl check-namespace -L namespace0.0
ndctl check-namespace --rewrite-log --repair --force --verbose namespace0.0
cat /sys/kernel/debug/btt/btt0.0/arena0/log_index_0 /sys/kernel/debug/btt/btt0.0/arena0/log_index_1
dd if=/dev/pmem0s bs=4096 skip=1 count=1 2>/dev/null | head -c 11; dd if=/dev/pmem0s bs=4096 skip=2 count=1 2>/dev/null | head -c 11
ndctl check-namespace --force namespace0.0
