/**
 * The `power/` directory every device gets (drivers/base/power/sysfs.c,
 * Linux v5.13).
 *
 * `device_add()` calls `dpm_sysfs_add()`, which creates the `power` group
 * (empty without CONFIG_PM_ADVANCED_DEBUG) and merges the runtime-PM files
 * into it unless the device was declared to have no runtime-PM callbacks
 * (`pm_runtime_no_callbacks()`); none of the model's devices (memory
 * blocks, nodes, nd and dax devices, ...) is, so each gets the five files
 * of `runtime_attrs[]`. None ever enables runtime PM
 * (`disable_depth` stays 1), so the status reads `unsupported`, the
 * accounting never runs (both times read 0 ms), and autosuspend is not in
 * use (`autosuspend_delay_ms` answers -EIO both ways). `control` keeps what
 * user space writes: `auto` (`pm_runtime_allow()`, the default) or `on`
 * (`pm_runtime_forbid()`).
 *
 * ```
 *   memory32/power/
 *       autosuspend_delay_ms   0644   -EIO
 *       control                0644   auto | on
 *       runtime_active_time    0444   0
 *       runtime_status         0444   unsupported
 *       runtime_suspended_time 0444   0
 * ```
 *
 * The `async` file (CONFIG_PM_ADVANCED_DEBUG) and the wakeup and PM QoS files
 * (devices that can wake the system or set a latency) are not there, as on
 * a distribution kernel.
 */
import type { AttributeGroup, Device } from './device.js';
import { KernelError } from './errno.js';
import { sysfsStreq } from './sysfs.js';

/**
 * `pm_attr_group` merged with `pm_runtime_attr_group`: the `power` group of
 * a device whose runtime PM is disabled. `runtime_auto` is kept per device
 * in `auto` (true until `on` is written).
 */
/** Internal to the package: the device core adds it to every device. */
export function dpmSysfsGroup(auto: WeakMap<Device, boolean>): AttributeGroup {
  const noAutosuspend = (): never => {
    throw new KernelError('EIO', 'autosuspend_delay_ms: autosuspend is not in use');
  };
  return {
    name: 'power',
    attrs: [
      // rtpm_status_show(): disable_depth > 0.
      { name: 'runtime_status', mode: 0o444, show: () => 'unsupported\n' },
      {
        // control_show() / control_store()
        name: 'control',
        mode: 0o644,
        show: (dev) => ((auto.get(dev) ?? true) ? 'auto\n' : 'on\n'),
        store: (dev, buf) => {
          if (sysfsStreq(buf, 'auto')) auto.set(dev, true);
          else if (sysfsStreq(buf, 'on')) auto.set(dev, false);
          else throw new KernelError('EINVAL', `control: invalid value ${JSON.stringify(buf)}`);
        },
      },
      // rtpm_suspended_time_show() / rtpm_active_time_show(): update_pm_runtime_accounting() returns at once while disabled.
      { name: 'runtime_suspended_time', mode: 0o444, show: () => '0\n' },
      { name: 'runtime_active_time', mode: 0o444, show: () => '0\n' },
      // autosuspend_delay_ms_show() / _store(): -EIO without use_autosuspend.
      { name: 'autosuspend_delay_ms', mode: 0o644, show: noAutosuspend, store: noAutosuspend },
    ],
  };
}
