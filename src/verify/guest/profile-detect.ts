// A guest image's profile: the one detection table of src/profiles/detect.ts (shared with
// `syndrop doctor` and `profiles detect`).

export { detectProfile, parseKernelVersion, type Detection, type KernelVersion } from '../../profiles/detect.js';
