//! The OpenCL SHA256d miner: device discovery, the host side of `kernels/sha256d.cl`, and
//! [`OpenClMiner`], one host thread per device.
//!
//! The kernel hashes one nonce per vector lane from the job's midstate and precomputed words
//! and reports, through a small atomic result buffer, the nonces whose hash passes the
//! target's top word. The host re-runs a launch whose passing nonces overflowed the buffer
//! (with a larger buffer, or in halves), so none is lost, and re-checks every reported nonce
//! with [`reference_sha256d`] against the full target before it becomes a [`Candidate`].
//!
//! `opencl3` loads `libOpenCL.so.1` at run time: without it [`opencl_devices`] returns
//! [`OpenClError::NoLoader`] and the CPU hasher still works.
// opencl3's buffer, kernel-argument and enqueue calls are `unsafe` (the C API trusts sizes and
// pointers): each sits in a small helper with a SAFETY comment. See docs/adr/0014.
#![allow(unsafe_code)]

use std::collections::VecDeque;
use std::fmt;
use std::io;
use std::ptr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use opencl3::command_queue::CommandQueue;
use opencl3::context::Context;
use opencl3::device::{
    Device, CL_DEVICE_NOT_FOUND, CL_DEVICE_TYPE_ACCELERATOR, CL_DEVICE_TYPE_ALL,
    CL_DEVICE_TYPE_CPU, CL_DEVICE_TYPE_GPU,
};
use opencl3::error_codes::{error_text, ClError, DLOPEN_RUNTIME_LOAD_FAILED};
use opencl3::event::Event;
use opencl3::kernel::Kernel;
use opencl3::memory::{Buffer, ClMem, CL_MEM_READ_WRITE};
use opencl3::platform::get_platforms;
use opencl3::program::Program;
use opencl3::types::{cl_event, cl_int, cl_uint, CL_BLOCKING};

use crate::hasher::{Candidate, Job, Target};
use crate::sha256::{reference_sha256d, Precomputed};
use crate::slot::JobSlot;

/// The kernel's source, built for each device with `-D VECSIZE=<its vector width>`.
const SOURCE: &str = include_str!("../kernels/sha256d.cl");

/// The kernel's name in [`SOURCE`].
const KERNEL_NAME: &str = "sha256d_scan";

/// `CL_PLATFORM_NOT_FOUND_KHR`: the ICD loader found no driver.
const PLATFORM_NOT_FOUND: cl_int = -1001;

/// Nonce slots of a fresh result buffer: an ordinary target passes far fewer per launch.
const INITIAL_CAPACITY: u32 = 16;

/// The largest result buffer (nonce slots) a launch may grow; beyond it, a launch whose
/// passing nonces overflowed is re-run in halves.
const MAX_CAPACITY: u32 = 1 << 20;

/// How long one launch should take; the launch size is tuned towards it.
pub const LAUNCH_TARGET: Duration = Duration::from_millis(100);

/// Work items in a launch are a multiple of this, so that the work-group size divides them.
const ITEM_GRANULE: u64 = 256;

/// The work-group size, unless the kernel allows less on the device. It is fixed because PoCL
/// compiles a kernel anew for every work-group size it sees (seconds each).
const LOCAL_SIZE: usize = 64;

/// Nonces in the first launch on a device (or fewer when the intensity caps it).
const FIRST_LAUNCH: u64 = 1 << 16;

/// The largest launch: the kernel's nonce count is a 32-bit word.
const LAUNCH_LIMIT: u64 = 1 << 31;

/// What kind of device an [`OpenClDevice`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum OpenClDeviceKind {
    /// A graphics processor.
    Gpu,
    /// The host's processor (PoCL, Intel's CPU runtime).
    Cpu,
    /// Another accelerator (FPGA, DSP).
    Accelerator,
}

impl fmt::Display for OpenClDeviceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            OpenClDeviceKind::Gpu => "gpu",
            OpenClDeviceKind::Cpu => "cpu",
            OpenClDeviceKind::Accelerator => "accelerator",
        })
    }
}

/// An OpenCL device as [`opencl_devices`] lists it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct OpenClDevice {
    /// `"<platform index>:<device index>"`, stable while the installed drivers are: the
    /// platform's position in the loader's list and the device's in its platform's list.
    pub id: String,
    /// The device's name.
    pub name: String,
    /// The device's vendor.
    pub vendor: String,
    /// The name of the platform (driver) it belongs to.
    pub platform: String,
    /// GPU, CPU or accelerator.
    pub kind: OpenClDeviceKind,
    /// Parallel compute units (cores on a CPU device, multiprocessors on a GPU).
    pub compute_units: u32,
    /// The maximum clock, in MHz.
    pub max_clock_mhz: u32,
    /// Global memory, in bytes.
    pub global_memory: u64,
    /// The device's preferred vector width for `int`, as it reports it.
    pub preferred_vector_width: u32,
}

impl OpenClDevice {
    /// Nonces per work item: the preferred `int` vector width rounded down to one of
    /// 1, 2, 4, 8 and 16 (the kernel's `VECSIZE`).
    pub fn kernel_vector_width(&self) -> u32 {
        kernel_vector_width(self.preferred_vector_width)
    }
}

impl fmt::Display for OpenClDevice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} ({}, {}, {} compute units)",
            self.id, self.name, self.platform, self.kind, self.compute_units
        )
    }
}

/// The kernel's vector width for a preferred `int` vector width.
fn kernel_vector_width(preferred: u32) -> u32 {
    match preferred {
        16.. => 16,
        8..=15 => 8,
        4..=7 => 4,
        2..=3 => 2,
        _ => 1,
    }
}

/// What went wrong with OpenCL.
#[derive(Debug)]
#[non_exhaustive]
pub enum OpenClError {
    /// The OpenCL ICD loader (`libOpenCL.so.1`) could not be loaded.
    NoLoader,
    /// An OpenCL call failed.
    Call {
        /// The OpenCL function.
        call: &'static str,
        /// The device's id, when the call concerned one.
        device: Option<String>,
        /// The OpenCL error code.
        code: i32,
    },
    /// No device has this id (see [`opencl_devices`]).
    UnknownDevice(String),
    /// The kernel did not build for the device.
    Build {
        /// The device's id.
        device: String,
        /// The compiler's message and build log.
        log: String,
    },
    /// The kernel's hashes on the device disagree with the reference SHA256d (a driver or
    /// compiler fault): the device is not used.
    WrongResults {
        /// The device's id.
        device: String,
    },
    /// The intensity is outside [`OpenClConfig::INTENSITIES`].
    Intensity(u8),
    /// Another miner of this process runs on the device (one per device).
    DeviceBusy(String),
    /// The operating system refused the host thread.
    Spawn(io::Error),
}

impl fmt::Display for OpenClError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OpenClError::NoLoader => f.write_str(
                "no OpenCL loader: libOpenCL.so.1 could not be loaded (install \
                 ocl-icd-libopencl1 and a driver such as pocl-opencl-icd, or set \
                 OPENCL_DYLIB_PATH)",
            ),
            OpenClError::Call { call, device, code } => {
                write!(f, "{call} failed with {} ({code})", error_text(*code))?;
                if let Some(device) = device {
                    write!(f, " on OpenCL device {device}")?;
                }
                Ok(())
            }
            OpenClError::UnknownDevice(id) => write!(
                f,
                "no OpenCL device with id {id:?} (ids are \"platform:device\", as listed by \
                 opencl_devices)"
            ),
            OpenClError::Build { device, log } => {
                write!(
                    f,
                    "the SHA256d kernel did not build on OpenCL device {device}: {log}"
                )
            }
            OpenClError::WrongResults { device } => write!(
                f,
                "the SHA256d kernel's results on OpenCL device {device} disagree with the \
                 reference SHA256d: the device is not used"
            ),
            OpenClError::Intensity(i) => write!(
                f,
                "OpenCL intensity {i} is outside {}..={}",
                OpenClConfig::INTENSITIES.start(),
                OpenClConfig::INTENSITIES.end()
            ),
            OpenClError::DeviceBusy(id) => {
                write!(f, "OpenCL device {id} already has a miner in this process")
            }
            OpenClError::Spawn(e) => write!(f, "cannot start the OpenCL host thread: {e}"),
        }
    }
}

impl std::error::Error for OpenClError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            OpenClError::Spawn(e) => Some(e),
            _ => None,
        }
    }
}

/// Maps an `opencl3` error of `call` (on `device`, if any) to an [`OpenClError`].
fn cl_error(call: &'static str, device: Option<&str>) -> impl FnOnce(ClError) -> OpenClError {
    let device = device.map(str::to_owned);
    move |e| {
        if e.0 == DLOPEN_RUNTIME_LOAD_FAILED {
            OpenClError::NoLoader
        } else {
            OpenClError::Call {
                call,
                device,
                code: e.0,
            }
        }
    }
}

/// Every GPU, CPU and accelerator device of every OpenCL platform.
///
/// # Errors
/// [`OpenClError::NoLoader`] without `libOpenCL.so.1`; [`OpenClError::Call`] when a platform
/// or device query fails. No platform at all (a loader without drivers) is an empty list.
pub fn opencl_devices() -> Result<Vec<OpenClDevice>, OpenClError> {
    Ok(enumerate()?.into_iter().map(|(_, d)| d).collect())
}

/// Serialises device discovery within the process: PoCL 3.1 initialises its devices on the
/// first platform query, and a second thread querying meanwhile can read a device whose name
/// is not set yet (a crash inside the driver, seen with concurrent tests).
static DISCOVERY: Mutex<()> = Mutex::new(());

/// The devices with their handles.
fn enumerate() -> Result<Vec<(Device, OpenClDevice)>, OpenClError> {
    let _serial = DISCOVERY.lock().unwrap_or_else(PoisonError::into_inner);
    let platforms = match get_platforms() {
        Ok(p) => p,
        Err(e) if e.0 == PLATFORM_NOT_FOUND => return Ok(Vec::new()),
        Err(e) => return Err(cl_error("clGetPlatformIDs", None)(e)),
    };
    let mut out = Vec::new();
    for (p, platform) in platforms.iter().enumerate() {
        let ids = match platform.get_devices(CL_DEVICE_TYPE_ALL) {
            Ok(ids) => ids,
            Err(e) if e.0 == CL_DEVICE_NOT_FOUND => continue,
            Err(e) => return Err(cl_error("clGetDeviceIDs", None)(e)),
        };
        let platform_name = platform
            .name()
            .map_err(cl_error("clGetPlatformInfo", None))?;
        for (d, id) in ids.into_iter().enumerate() {
            let device = Device::new(id);
            let id = format!("{p}:{d}");
            let info = |e| cl_error("clGetDeviceInfo", Some(&id))(e);
            let kind = device.dev_type().map_err(info)?;
            let kind = if kind & CL_DEVICE_TYPE_GPU != 0 {
                OpenClDeviceKind::Gpu
            } else if kind & CL_DEVICE_TYPE_CPU != 0 {
                OpenClDeviceKind::Cpu
            } else if kind & CL_DEVICE_TYPE_ACCELERATOR != 0 {
                OpenClDeviceKind::Accelerator
            } else {
                continue;
            };
            let record = OpenClDevice {
                name: device.name().map_err(info)?.trim().to_owned(),
                vendor: device.vendor().map_err(info)?.trim().to_owned(),
                platform: platform_name.trim().to_owned(),
                kind,
                compute_units: device.max_compute_units().map_err(info)?,
                max_clock_mhz: device.max_clock_frequency().map_err(info)?,
                global_memory: device.global_mem_size().map_err(info)?,
                preferred_vector_width: device.max_preferred_vector_width_int().map_err(info)?,
                id,
            };
            out.push((device, record));
        }
    }
    Ok(out)
}

/// The kernel's job arguments: `mid`, `s3` and `pre` (see `kernels/sha256d.cl`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct KernelParams {
    /// The midstate.
    mid: [u32; 8],
    /// The state after rounds 0–2 of the header's second block.
    s3: [u32; 8],
    /// Round 3's T1 base and T2, W16, W17, W18 − σ0(W3), W19 − W3, the target's top word, 0.
    pre: [u32; 8],
}

impl KernelParams {
    fn new(job: &Job) -> Self {
        let p = Precomputed::new(&job.header, job.target.top_word());
        KernelParams {
            mid: p.midstate,
            s3: p.s3,
            pre: [
                p.t1_base,
                p.t2,
                p.w16,
                p.w17,
                p.w18_base,
                p.w19_base,
                p.target_hi,
                0,
            ],
        }
    }
}

/// The bounds within which launch sizes are tuned, in nonces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct LaunchBounds {
    /// Launch sizes are multiples of it (the vector width times [`ITEM_GRANULE`]).
    granule: u64,
    /// The smallest launch: one granule.
    min: u64,
    /// The largest: 2^intensity work items, at most [`LAUNCH_LIMIT`] nonces.
    max: u64,
}

impl LaunchBounds {
    fn new(intensity: u8, width: u32) -> Self {
        let granule = u64::from(width) * ITEM_GRANULE;
        let items = 1u64 << intensity.min(40);
        let max = (items * u64::from(width)).min(LAUNCH_LIMIT) / granule * granule;
        LaunchBounds {
            granule,
            min: granule,
            max: max.max(granule),
        }
    }

    /// The first launch's size.
    fn first(&self) -> u64 {
        (FIRST_LAUNCH / self.granule * self.granule).clamp(self.min, self.max)
    }
}

/// The next launch size after a launch of `launched` nonces took `elapsed` while the size was
/// `size`: the size that would take [`LAUNCH_TARGET`] at the measured rate, moving at most a
/// factor of two per launch, in whole granules within the bounds. A short launch (the end of a
/// range) says little about the rate and leaves the size as it is.
fn next_launch_size(size: u64, launched: u64, elapsed: Duration, bounds: LaunchBounds) -> u64 {
    if launched < size / 2 {
        return size;
    }
    // No measurable time: as fast as it gets, so grow.
    let ideal = (u128::from(launched) * LAUNCH_TARGET.as_nanos())
        .checked_div(elapsed.as_nanos())
        .map_or(u64::MAX, |x| u64::try_from(x).unwrap_or(u64::MAX));
    let next = ideal.clamp(size / 2, size.saturating_mul(2));
    (next / bounds.granule * bounds.granule).clamp(bounds.min, bounds.max)
}

/// Work items for a launch of `count` nonces: enough for every nonce, in whole granules.
fn work_items(count: u64, width: u32) -> u64 {
    count.div_ceil(u64::from(width)).div_ceil(ITEM_GRANULE) * ITEM_GRANULE
}

/// One of the two launch slots: a queue, a kernel object and a result buffer of its own.
struct Slot {
    queue: CommandQueue,
    kernel: Kernel,
    /// `1 + capacity` words: the passing count, then the nonces.
    results: Buffer<u32>,
    capacity: u32,
}

/// A device's OpenCL objects: the built program and two launch slots (launch N + 1 is queued
/// on one, behind launch N, while the host waits for launch N on the other and reads it back).
struct Engine {
    device: OpenClDevice,
    width: u32,
    /// The work-group size: a power of two dividing [`ITEM_GRANULE`].
    local: usize,
    slots: [Slot; 2],
    /// Nonce slots beyond which a result buffer is not grown (a test lowers it).
    max_capacity: u32,
    /// The last launch queued, on either slot: the next one waits for it, so that launches
    /// run one at a time, in order (the double buffering is in the queueing and reading,
    /// not in running two kernels at once: newer PoCL releases abort when two launches of one
    /// kernel with different grid sizes overlap, their work-group function cache releasing the
    /// wrong entry).
    last_launch: Option<Event>,
    _program: Program,
    context: Context,
}

/// What one run of the kernel over a range found.
struct Collected {
    /// Every passing nonce, when they fitted the buffer.
    nonces: Vec<u32>,
    /// How many nonces passed (more than `nonces` holds on overflow).
    passed: u64,
}

impl Engine {
    /// Opens the device with id `id`: its context, the kernel built for its vector width, and
    /// the two slots.
    fn open(id: &str) -> Result<Engine, OpenClError> {
        let (device, info) = enumerate()?
            .into_iter()
            .find(|(_, d)| d.id == id)
            .ok_or_else(|| OpenClError::UnknownDevice(id.to_owned()))?;
        let at = Some(id);
        let context = Context::from_device(&device).map_err(cl_error("clCreateContext", at))?;
        let width = info.kernel_vector_width();
        let program =
            Program::create_and_build_from_source(&context, SOURCE, &format!("-D VECSIZE={width}"))
                .map_err(|log| OpenClError::Build {
                    device: id.to_owned(),
                    log,
                })?;
        let slot = || -> Result<Slot, OpenClError> {
            Ok(Slot {
                queue: CommandQueue::create_default(&context, 0)
                    .map_err(cl_error("clCreateCommandQueue", at))?,
                kernel: Kernel::create(&program, KERNEL_NAME)
                    .map_err(cl_error("clCreateKernel", at))?,
                results: create_results(&context, INITIAL_CAPACITY, id)?,
                capacity: INITIAL_CAPACITY,
            })
        };
        let slots = [slot()?, slot()?];
        let allowed = slots[0]
            .kernel
            .get_work_group_size(device.id())
            .map_err(cl_error("clGetKernelWorkGroupInfo", at))?;
        let local = LOCAL_SIZE.min(allowed.max(1));
        let mut engine = Engine {
            device: info,
            width,
            // The largest power of two within the limit.
            local: 1 << local.ilog2(),
            slots,
            max_capacity: MAX_CAPACITY,
            last_launch: None,
            _program: program,
            context,
        };
        engine.self_test()?;
        Ok(engine)
    }

    /// Hashes 64 nonces against a target that about half of them meet in the top word and
    /// compares the passing set with the reference SHA256d's: a device or compiler that gets
    /// the kernel wrong is refused before it mines (and PoCL's compilation happens here).
    fn self_test(&mut self) -> Result<(), OpenClError> {
        let mut header = [0u8; 80];
        for (i, b) in header.iter_mut().enumerate() {
            *b = (i as u8).wrapping_mul(73).wrapping_add(19);
        }
        let base = u64::from(u32::MAX) - 63;
        let tops: Vec<(u32, u32)> = (base..=u64::from(u32::MAX))
            .map(|n| {
                let h = reference_sha256d(&header, n as u32);
                (n as u32, u32::from_le_bytes([h[28], h[29], h[30], h[31]]))
            })
            .collect();
        let mut sorted: Vec<u32> = tops.iter().map(|(_, t)| *t).collect();
        sorted.sort_unstable();
        let median = sorted[sorted.len() / 2];
        let mut target = [0xffu8; 32];
        target[28..].copy_from_slice(&median.to_le_bytes());
        let job = Job::new(0, header, Target::from_le_bytes(target));
        let params = KernelParams::new(&job);
        let expected: Vec<u32> = tops
            .iter()
            .filter(|(_, t)| *t <= median)
            .map(|(n, _)| *n)
            .collect();
        self.enqueue(0, &params, base, 64)?;
        let got = self.finish(0, &params, base, 64)?;
        if got == expected {
            Ok(())
        } else {
            Err(OpenClError::WrongResults {
                device: self.device.id.clone(),
            })
        }
    }

    /// Queues a run of the kernel over `count` nonces from `base` on slot `slot` and submits
    /// it; does not wait.
    fn enqueue(
        &mut self,
        slot: usize,
        params: &KernelParams,
        base: u64,
        count: u64,
    ) -> Result<(), OpenClError> {
        let id = Some(self.device.id.as_str());
        let s = &mut self.slots[slot];
        // Launch sizes are below 2^31 and nonces below 2^32: both fit the kernel's words.
        let base = base as u32;
        let count = count.min(LAUNCH_LIMIT) as cl_uint;
        let items = work_items(u64::from(count), self.width) as usize;
        let zero: [cl_uint; 1] = [0];
        // SAFETY: the fill writes the first word of `s.results`, which holds `1 + capacity`
        // words; OpenCL copies `zero` before clEnqueueFillBuffer returns.
        unsafe {
            s.queue
                .enqueue_fill_buffer(&mut s.results, &zero, 0, size_of::<cl_uint>(), &[])
        }
        .map_err(cl_error("clEnqueueFillBuffer", id))?;
        let mem = s.results.get();
        // SAFETY: the values match the kernel's parameters in order and size: a buffer handle
        // (alive in `s` until this launch is read back), three `uint`s and three `uint8`s
        // (`[u32; 8]`, 32 bytes). OpenCL copies them when each call returns.
        unsafe {
            let k = &s.kernel;
            k.set_arg(0, &mem)
                .and_then(|()| k.set_arg(1, &s.capacity))
                .and_then(|()| k.set_arg(2, &base))
                .and_then(|()| k.set_arg(3, &count))
                .and_then(|()| k.set_arg(4, &params.mid))
                .and_then(|()| k.set_arg(5, &params.s3))
                .and_then(|()| k.set_arg(6, &params.pre))
        }
        .map_err(cl_error("clSetKernelArg", id))?;
        let local = self.local;
        let after: Vec<cl_event> = self.last_launch.iter().map(Event::get).collect();
        // SAFETY: a one-dimensional launch: the global and local sizes point at `usize`s that
        // live through the call (the local size divides the global one), no offsets, every
        // argument was set just above; the wait list holds the previous launch's event, alive
        // in `self.last_launch` during the call.
        let launch = unsafe {
            s.queue
                .enqueue_nd_range_kernel(s.kernel.get(), 1, ptr::null(), &items, &local, &after)
        }
        .map_err(cl_error("clEnqueueNDRangeKernel", id))?;
        self.last_launch = Some(launch);
        s.queue.flush().map_err(cl_error("clFlush", id))
    }

    /// Waits for slot `slot`'s launch and reads its passing nonces back.
    fn collect(&mut self, slot: usize) -> Result<Collected, OpenClError> {
        let id = Some(self.device.id.as_str());
        let s = &mut self.slots[slot];
        let mut count = [0 as cl_uint; 1];
        // SAFETY: a blocking read of the buffer's first word into a one-word array; the
        // in-order queue runs it after the launch, and it has finished when the call returns.
        unsafe {
            s.queue
                .enqueue_read_buffer(&s.results, CL_BLOCKING, 0, &mut count, &[])
        }
        .map_err(cl_error("clEnqueueReadBuffer", id))?;
        let passed = count[0];
        let mut nonces = vec![0 as cl_uint; passed.min(s.capacity) as usize];
        if !nonces.is_empty() {
            // SAFETY: a blocking read of at most `capacity` words from word 1 of a buffer of
            // `1 + capacity` words into a vector of exactly that length.
            unsafe {
                s.queue.enqueue_read_buffer(
                    &s.results,
                    CL_BLOCKING,
                    size_of::<cl_uint>(),
                    &mut nonces,
                    &[],
                )
            }
            .map_err(cl_error("clEnqueueReadBuffer", id))?;
        }
        Ok(Collected {
            nonces,
            passed: u64::from(passed),
        })
    }

    /// Gives slot `slot` a result buffer of at least `needed` nonce slots (up to the maximum).
    /// The slot must be idle.
    fn grow(&mut self, slot: usize, needed: u64) -> Result<(), OpenClError> {
        let capacity = needed.next_power_of_two().min(u64::from(self.max_capacity)) as u32;
        let s = &mut self.slots[slot];
        if capacity > s.capacity {
            s.results = create_results(&self.context, capacity, &self.device.id)?;
            s.capacity = capacity;
        }
        Ok(())
    }

    /// Completes the launch on slot `slot` (`count` nonces from `base`): every passing nonce,
    /// sorted. A launch whose passing nonces overflowed the buffer is re-run on the same slot,
    /// now that their number is known, with a buffer that holds them all, or in halves when
    /// they are more than the largest buffer holds; nothing is lost.
    fn finish(
        &mut self,
        slot: usize,
        params: &KernelParams,
        base: u64,
        count: u64,
    ) -> Result<Vec<u32>, OpenClError> {
        let first = self.collect(slot)?;
        if first.passed <= first.nonces.len() as u64 {
            let mut out = first.nonces;
            out.sort_unstable();
            return Ok(out);
        }
        let mut out = Vec::new();
        // Ranges to run again with their passing counts (0: not known yet), lowest first.
        let mut pending = vec![(base, count, first.passed)];
        while let Some((base, count, passed)) = pending.pop() {
            if passed > u64::from(self.max_capacity) {
                let half = count / 2;
                pending.push((base + half, count - half, 0));
                pending.push((base, half, 0));
                continue;
            }
            self.grow(slot, passed)?;
            self.enqueue(slot, params, base, count)?;
            let again = self.collect(slot)?;
            if again.passed <= again.nonces.len() as u64 {
                out.extend(again.nonces);
            } else {
                pending.push((base, count, again.passed));
            }
        }
        out.sort_unstable();
        Ok(out)
    }

    /// Waits until both slots are idle.
    fn drain(&self) -> Result<(), OpenClError> {
        for s in &self.slots {
            s.queue
                .finish()
                .map_err(cl_error("clFinish", Some(&self.device.id)))?;
        }
        Ok(())
    }
}

/// A result buffer of `1 + capacity` words on `context`.
fn create_results(
    context: &Context,
    capacity: u32,
    device: &str,
) -> Result<Buffer<u32>, OpenClError> {
    // SAFETY: a device-side buffer of `1 + capacity` words with no host pointer (null is what
    // OpenCL expects without CL_MEM_USE_HOST_PTR / CL_MEM_COPY_HOST_PTR).
    unsafe {
        Buffer::<cl_uint>::create(
            context,
            CL_MEM_READ_WRITE,
            1 + capacity as usize,
            ptr::null_mut(),
        )
    }
    .map_err(cl_error("clCreateBuffer", Some(device)))
}

/// How to run an [`OpenClMiner`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenClConfig {
    /// The device's [`OpenClDevice::id`].
    pub device: String,
    /// The launch size's upper bound: at most 2^intensity work items (each hashing the
    /// device's vector width of nonces) and 2³¹ nonces per launch. Launches are tuned to take
    /// about [`LAUNCH_TARGET`] below it; a lower intensity keeps launches (and so the delay
    /// before a new job starts) short on a slow device. In [`OpenClConfig::INTENSITIES`].
    pub intensity: u8,
}

impl OpenClConfig {
    /// The accepted intensities.
    pub const INTENSITIES: std::ops::RangeInclusive<u8> = 8..=31;

    /// The default intensity: no cap below the 2³¹-nonce limit (the tuner decides).
    pub const DEFAULT_INTENSITY: u8 = 31;

    /// The device `device` at the default intensity.
    pub fn new(device: impl Into<String>) -> Self {
        OpenClConfig {
            device: device.into(),
            intensity: Self::DEFAULT_INTENSITY,
        }
    }
}

/// What the caller and the host thread share: the job under a lock, and the atomics.
#[derive(Debug)]
struct Shared {
    /// The current job; the host thread drops the results of older generations.
    slot: JobSlot,
    hashes: AtomicU64,
    /// Why the host thread stopped, if it failed.
    error: Mutex<Option<OpenClError>>,
}

/// A running OpenCL miner on one device: a host thread that keeps two launches in flight over
/// the current job's nonce range. Dropping it stops and joins the thread.
#[derive(Debug)]
pub struct OpenClMiner {
    config: OpenClConfig,
    device: OpenClDevice,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
    started: Instant,
    /// Released (after the thread is joined, fields drop after `Drop::drop`) when it drops.
    _claim: DeviceClaim,
}

/// The devices a miner of this process runs on.
static BUSY: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// A device held by one miner: one host thread per device, and newer PoCL releases abort
/// when launches from two contexts on one device overlap.
#[derive(Debug)]
struct DeviceClaim(String);

impl DeviceClaim {
    fn take(id: &str) -> Result<Self, OpenClError> {
        let mut busy = BUSY.lock().unwrap_or_else(PoisonError::into_inner);
        if busy.iter().any(|b| b == id) {
            return Err(OpenClError::DeviceBusy(id.to_owned()));
        }
        busy.push(id.to_owned());
        Ok(DeviceClaim(id.to_owned()))
    }
}

impl Drop for DeviceClaim {
    fn drop(&mut self) {
        BUSY.lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|b| *b != self.0);
    }
}

impl OpenClMiner {
    /// Opens the device, builds the kernel, and starts the idle host thread; returns the
    /// miner and the channel on which every verified [`Candidate`] arrives.
    ///
    /// # Errors
    /// As [`OpenClMiner::start_with`].
    pub fn start(config: OpenClConfig) -> Result<(OpenClMiner, Receiver<Candidate>), OpenClError> {
        let (tx, rx) = mpsc::channel();
        let miner = Self::start_with(config, move |c| {
            // The receiver may be gone: then nobody wants candidates any more.
            let _ = tx.send(c);
        })?;
        Ok((miner, rx))
    }

    /// Opens the device, builds the kernel for its vector width, and starts the idle host
    /// thread, which calls `on_candidate` for every verified candidate as soon as it is found.
    ///
    /// # Errors
    /// [`OpenClError::Intensity`] outside [`OpenClConfig::INTENSITIES`];
    /// [`OpenClError::DeviceBusy`] while another miner of this process runs on the device;
    /// [`OpenClError::NoLoader`], [`OpenClError::UnknownDevice`], [`OpenClError::Build`],
    /// [`OpenClError::WrongResults`] or [`OpenClError::Call`] when the device cannot be set up;
    /// [`OpenClError::Spawn`].
    pub fn start_with(
        config: OpenClConfig,
        on_candidate: impl FnMut(Candidate) + Send + 'static,
    ) -> Result<OpenClMiner, OpenClError> {
        if !OpenClConfig::INTENSITIES.contains(&config.intensity) {
            return Err(OpenClError::Intensity(config.intensity));
        }
        let claim = DeviceClaim::take(&config.device)?;
        let engine = Engine::open(&config.device)?;
        let device = engine.device.clone();
        let shared = Arc::new(Shared {
            slot: JobSlot::default(),
            hashes: AtomicU64::new(0),
            error: Mutex::new(None),
        });
        let bounds = LaunchBounds::new(config.intensity, engine.width);
        let thread = {
            let shared = Arc::clone(&shared);
            thread::Builder::new()
                .name(format!("opencl-miner-{}", config.device))
                .spawn(move || host(&shared, engine, bounds, on_candidate))
                .map_err(OpenClError::Spawn)?
        };
        Ok(OpenClMiner {
            config,
            device,
            shared,
            thread: Some(thread),
            started: Instant::now(),
            _claim: claim,
        })
    }

    /// Replaces the current job: the old one stops at the next launch (launches already in
    /// flight finish, their results unreported) and the device starts on `job.nonces`.
    pub fn set_job(&self, job: Job) {
        self.publish(Some(Arc::new(job)));
    }

    /// Stops hashing after the launches in flight (the device idles until the next
    /// [`OpenClMiner::set_job`]).
    pub fn clear_job(&self) {
        self.publish(None);
    }

    fn publish(&self, job: Option<Arc<Job>>) {
        self.shared.slot.publish(job);
    }

    /// The configuration it runs.
    pub fn config(&self) -> &OpenClConfig {
        &self.config
    }

    /// The device it runs on.
    pub fn device(&self) -> &OpenClDevice {
        &self.device
    }

    /// Hashes computed so far, counted per launch once its candidates have been reported.
    pub fn hashes(&self) -> u64 {
        self.shared.hashes.load(Ordering::Relaxed)
    }

    /// Hashes per second since the miner started.
    pub fn hashrate(&self) -> f64 {
        let secs = self.started.elapsed().as_secs_f64();
        if secs > 0.0 {
            self.hashes() as f64 / secs
        } else {
            0.0
        }
    }

    /// The error that stopped the host thread, if one did (taken: a second call returns
    /// `None`). A stopped miner hashes no more; start a new one.
    pub fn take_error(&self) -> Option<OpenClError> {
        self.shared
            .error
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }

    /// Stops the host thread and waits for it (and for the launches in flight).
    pub fn stop(self) {
        drop(self);
    }
}

impl Drop for OpenClMiner {
    fn drop(&mut self) {
        self.shared.slot.shut_down();
        if let Some(handle) = self.thread.take() {
            // A host thread that panicked has nothing left to clean up.
            let _ = handle.join();
        }
    }
}

/// The current job as the host thread sees it.
struct Current {
    job: Arc<Job>,
    generation: u64,
    params: KernelParams,
    /// The next nonce to launch.
    next: u64,
}

/// A launch in flight.
struct Launch {
    slot: usize,
    job: Arc<Job>,
    generation: u64,
    params: KernelParams,
    base: u64,
    count: u64,
    enqueued: Instant,
}

/// The host thread: runs the miner loop and records the error that ends it, if any.
fn host(
    shared: &Shared,
    mut engine: Engine,
    bounds: LaunchBounds,
    mut on_candidate: impl FnMut(Candidate),
) {
    let result = mine(shared, &mut engine, bounds, &mut on_candidate);
    // Whatever happened, nothing may still run on the slots' buffers when they are released.
    let drained = engine.drain();
    if let Err(e) = result.and(drained) {
        *shared.error.lock().unwrap_or_else(PoisonError::into_inner) = Some(e);
    }
}

/// The miner loop: keeps two launches of the current job in flight, completes the oldest,
/// tunes the launch size, and reports the verified candidates of launches still current.
fn mine(
    shared: &Shared,
    engine: &mut Engine,
    bounds: LaunchBounds,
    on_candidate: &mut dyn FnMut(Candidate),
) -> Result<(), OpenClError> {
    let mut seen = 0u64;
    let mut current: Option<Current> = None;
    let mut in_flight: VecDeque<Launch> = VecDeque::with_capacity(2);
    let mut size = bounds.first();
    let mut last_done: Option<Instant> = None;
    loop {
        {
            let mut state = shared.slot.lock();
            loop {
                if shared.slot.is_shut_down() {
                    return Ok(());
                }
                if state.generation != seen {
                    seen = state.generation;
                    current = state.job.as_ref().map(|job| Current {
                        job: Arc::clone(job),
                        generation: seen,
                        params: KernelParams::new(job),
                        next: job.nonces.start(),
                    });
                }
                let has_work = current
                    .as_ref()
                    .is_some_and(|c| c.next < c.job.nonces.end());
                if has_work || !in_flight.is_empty() {
                    break;
                }
                state = shared.slot.wait(state);
            }
        }
        // Keep both slots busy: launch N + 1 is queued before launch N is read back.
        while in_flight.len() < 2 {
            let Some(cur) = current.as_mut() else { break };
            let end = cur.job.nonces.end();
            if cur.next >= end {
                break;
            }
            let count = size.min(end - cur.next);
            let slot = in_flight.front().map_or(0, |l| 1 - l.slot);
            engine.enqueue(slot, &cur.params, cur.next, count)?;
            in_flight.push_back(Launch {
                slot,
                job: Arc::clone(&cur.job),
                generation: cur.generation,
                params: cur.params,
                base: cur.next,
                count,
                enqueued: Instant::now(),
            });
            cur.next += count;
        }
        let Some(launch) = in_flight.pop_front() else {
            continue;
        };
        let passing = engine.finish(launch.slot, &launch.params, launch.base, launch.count)?;
        let done = Instant::now();
        // The device worked on this launch from when it was queued or the previous launch
        // finished, whichever came later (launches run one after the other).
        let began = last_done.map_or(launch.enqueued, |t| t.max(launch.enqueued));
        size = next_launch_size(size, launch.count, done - began, bounds);
        last_done = Some(done);
        report(shared, &launch, &passing, on_candidate);
        // Counted once the launch's candidates are out: when the count covers a range, every
        // candidate in it has been reported.
        shared.hashes.fetch_add(launch.count, Ordering::Relaxed);
    }
}

/// Re-checks a launch's passing nonces with the reference SHA256d and reports those meeting
/// the full target, unless a newer job has replaced the launch's (then, as for the CPU
/// miner, the rest are dropped at once).
fn report(
    shared: &Shared,
    launch: &Launch,
    passing: &[u32],
    on_candidate: &mut dyn FnMut(Candidate),
) {
    let stale = || shared.slot.generation.load(Ordering::Relaxed) != launch.generation;
    if stale() {
        return;
    }
    let job = &launch.job;
    for &nonce in passing {
        let hash = reference_sha256d(&job.header, nonce);
        if job.target.is_met_by(&hash) {
            on_candidate(Candidate {
                job_id: job.id,
                nonce,
                hash,
            });
            if stale() {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a failure is a failed test

    use super::*;
    use crate::hasher::NonceRange;
    use crate::sha256::{ssig0, ssig1, DIGEST_BITS, IV, PAD};

    /// The kernel's arithmetic in scalar Rust, from the same three argument vectors: H7 of
    /// the SHA256d of nonce `nonce`.
    fn kernel_h7(p: &KernelParams, nonce: u32) -> u32 {
        fn rounds(s: &mut [u32; 8], w: &[u32; 64], from: usize, to: usize) {
            for (t, wt) in w.iter().enumerate().take(to).skip(from) {
                crate::sha256::round(s, t, *wt);
            }
        }
        fn expand(w: &mut [u32; 64], from: usize) {
            for t in from..64 {
                w[t] = ssig1(w[t - 2])
                    .wrapping_add(w[t - 7])
                    .wrapping_add(ssig0(w[t - 15]))
                    .wrapping_add(w[t - 16]);
            }
        }
        let w3 = nonce.swap_bytes();
        let t1 = p.pre[0].wrapping_add(w3);
        let s = p.s3;
        let mut s = [
            t1.wrapping_add(p.pre[1]),
            s[0],
            s[1],
            s[2],
            s[3].wrapping_add(t1),
            s[4],
            s[5],
            s[6],
        ];
        let mut w = [0u32; 64];
        w[4] = PAD;
        w[15] = crate::sha256::HEADER_BITS;
        w[16] = p.pre[2];
        w[17] = p.pre[3];
        w[18] = p.pre[4].wrapping_add(ssig0(w3));
        w[19] = p.pre[5].wrapping_add(w3);
        // W0..W3 are only read by the expansion up to W19, which comes from the host.
        expand(&mut w, 20);
        rounds(&mut s, &w, 4, 64);
        let mut w2 = [0u32; 64];
        for i in 0..8 {
            w2[i] = s[i].wrapping_add(p.mid[i]);
        }
        w2[8] = PAD;
        w2[15] = DIGEST_BITS;
        expand(&mut w2, 16);
        let mut s2 = IV;
        rounds(&mut s2, &w2, 0, 61);
        s2[4].wrapping_add(IV[7])
    }

    #[test]
    fn kernel_params_give_the_reference_top_word() {
        let mut header = [0u8; 80];
        for (i, b) in header.iter_mut().enumerate() {
            *b = (i as u8).wrapping_mul(29).wrapping_add(5);
        }
        let mut t = [0xffu8; 32];
        t[28..].copy_from_slice(&0x1234_5678u32.to_le_bytes());
        let job = Job::new(1, header, Target::from_le_bytes(t));
        let p = KernelParams::new(&job);
        assert_eq!(p.pre[6], 0x1234_5678);
        assert_eq!(p.pre[7], 0);
        for nonce in [0u32, 1, 0x0102_0304, 0xdead_beef, u32::MAX] {
            let h = reference_sha256d(&header, nonce);
            let top = u32::from_le_bytes([h[28], h[29], h[30], h[31]]);
            assert_eq!(kernel_h7(&p, nonce).swap_bytes(), top, "nonce {nonce:#x}");
        }
    }

    #[test]
    fn vector_widths_round_down_to_what_the_kernel_builds() {
        for (preferred, width) in [(0, 1), (1, 1), (2, 2), (3, 2), (4, 4), (8, 8), (16, 16)] {
            assert_eq!(kernel_vector_width(preferred), width, "{preferred}");
        }
        assert_eq!(kernel_vector_width(64), 16);
    }

    #[test]
    fn launch_bounds_follow_intensity_and_width() {
        let b = LaunchBounds::new(8, 16);
        assert_eq!(b.granule, 16 * ITEM_GRANULE);
        assert_eq!((b.min, b.max), (4096, 4096));
        assert_eq!(b.first(), 4096);
        let b = LaunchBounds::new(20, 1);
        assert_eq!((b.min, b.max), (256, 1 << 20));
        assert_eq!(b.first(), FIRST_LAUNCH);
        // A high intensity stops at 2^31 nonces.
        assert_eq!(LaunchBounds::new(31, 16).max, LAUNCH_LIMIT);
        assert_eq!(LaunchBounds::new(31, 1).max, LAUNCH_LIMIT);
    }

    #[test]
    fn launch_size_moves_towards_the_target_time() {
        let b = LaunchBounds::new(28, 4);
        let size = 1 << 20;
        // Right on target: unchanged.
        assert_eq!(next_launch_size(size, size, LAUNCH_TARGET, b), size);
        // Too fast: grows, at most twofold per launch.
        assert_eq!(
            next_launch_size(size, size, Duration::from_millis(1), b),
            2 * size
        );
        assert_eq!(next_launch_size(size, size, Duration::ZERO, b), 2 * size);
        let grown = next_launch_size(size, size, Duration::from_millis(80), b);
        assert!(grown > size && grown < 2 * size && grown.is_multiple_of(b.granule));
        // Too slow: shrinks, at most by half.
        assert_eq!(
            next_launch_size(size, size, Duration::from_secs(5), b),
            size / 2
        );
        let shrunk = next_launch_size(size, size, Duration::from_millis(150), b);
        assert!(shrunk < size && shrunk > size / 2 && shrunk.is_multiple_of(b.granule));
        // Within bounds.
        assert_eq!(
            next_launch_size(b.min, b.min, Duration::from_secs(9), b),
            b.min
        );
        assert_eq!(
            next_launch_size(b.max, b.max, Duration::from_nanos(1), b),
            b.max
        );
        // A short tail launch says nothing about the rate.
        assert_eq!(
            next_launch_size(size, 1000, Duration::from_secs(1), b),
            size
        );
        // From the first launch, a device running 50 MH/s settles at about 5 M nonces.
        let mut s = b.first();
        for _ in 0..20 {
            let t = Duration::from_secs_f64(s as f64 / 50e6);
            s = next_launch_size(s, s, t, b);
        }
        assert!((4_900_000..=5_000_000).contains(&s), "{s}");
    }

    #[test]
    fn work_items_cover_every_nonce_in_whole_granules() {
        assert_eq!(work_items(1, 16), ITEM_GRANULE);
        assert_eq!(work_items(16 * ITEM_GRANULE, 16), ITEM_GRANULE);
        assert_eq!(work_items(16 * ITEM_GRANULE + 1, 16), 2 * ITEM_GRANULE);
        assert_eq!(work_items(LAUNCH_LIMIT, 1), LAUNCH_LIMIT);
    }

    #[test]
    fn errors_say_what_and_where() {
        assert!(OpenClError::NoLoader.to_string().contains("libOpenCL.so.1"));
        let e = OpenClError::Call {
            call: "clFinish",
            device: Some("0:1".into()),
            code: -5,
        };
        assert_eq!(
            e.to_string(),
            "clFinish failed with CL_OUT_OF_RESOURCES (-5) on OpenCL device 0:1"
        );
        assert!(OpenClError::UnknownDevice("3:0".into())
            .to_string()
            .contains("\"3:0\""));
        assert!(OpenClError::Intensity(5).to_string().contains("8..=31"));
    }

    /// The first OpenCL device, or `None` (with a note) where there is none and
    /// `P2SHARE_REQUIRE_OPENCL=1` is not set.
    fn first_device() -> Option<String> {
        match opencl_devices() {
            Ok(devices) if !devices.is_empty() => Some(devices[0].id.clone()),
            other => {
                assert!(
                    std::env::var("P2SHARE_REQUIRE_OPENCL").as_deref() != Ok("1"),
                    "P2SHARE_REQUIRE_OPENCL=1 but no OpenCL device: {other:?}"
                );
                eprintln!("note: no OpenCL device ({other:?}); OpenCL engine test skipped");
                None
            }
        }
    }

    /// With a result buffer capped at 64 nonces and every nonce passing, a 5000-nonce launch
    /// overflows, grows to the cap, overflows again and is split until every part fits: the
    /// output is still exactly the range.
    #[test]
    fn overflowing_launches_are_rerun_until_nothing_is_lost() {
        let Some(id) = first_device() else { return };
        let mut engine = Engine::open(&id).unwrap();
        engine.max_capacity = 64;
        let job = Job::new(1, [3; 80], Target::MAX);
        let params = KernelParams::new(&job);
        for (base, count) in [(10u64, 5000u64), (u64::from(u32::MAX) - 99, 100), (7, 40)] {
            engine.enqueue(0, &params, base, count).unwrap();
            let out = engine.finish(0, &params, base, count).unwrap();
            let expected: Vec<u32> = (base..base + count).map(|n| n as u32).collect();
            assert_eq!(out, expected, "{base} {count}");
            assert!(engine.slots[0].capacity <= 64);
        }
        // Nonces past the range's end (the last work item's spare lanes) never report.
        let range = NonceRange::new(0, 3).unwrap();
        engine
            .enqueue(1, &params, range.start(), range.len())
            .unwrap();
        assert_eq!(engine.finish(1, &params, 0, 3).unwrap(), [0, 1, 2]);
        engine.drain().unwrap();
    }
}
