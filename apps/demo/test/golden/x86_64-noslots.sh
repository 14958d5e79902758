# zonedev run --strict
# A machine without DIMM slots; --strict ends the script at the first failure.
object_add memory-backend-ram,id=mem1,size=128M
device_add pc-dimm,id=dimm1,memdev=mem1
echo not reached
