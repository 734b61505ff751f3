/**
 * How a FLASH or IMMEDIATE arrival gets attention: a tone (Web Audio oscillator, no file) and a
 * desktop notification. Browsers allow sound only after a gesture on the page, and notifications
 * only after the user says yes; both are asked for by buttons on the queue page, never silently.
 * The choice of sound is kept in this browser (localStorage).
 */
import { useSyncExternalStore } from 'react';

const SOUND_KEY = 'hotline.sound';
let audio: AudioContext | null = null;
const subscribers = new Set<() => void>();
const changed = () => { for (const f of subscribers) f(); };

function subscribe(f: () => void): () => void {
  subscribers.add(f);
  return () => { subscribers.delete(f); };
}

export interface AlertingState {
  /** The user turned the sound on (kept in this browser). */
  sound: boolean;
  /** Sound is on but the browser holds it until a click or key press on the page. */
  soundHeld: boolean;
  /** Notification.permission, or 'unsupported'. */
  notify: NotificationPermission | 'unsupported';
}

let snapshot: AlertingState | null = null;
function read(): AlertingState {
  const sound = localStorage.getItem(SOUND_KEY) === 'on';
  const soundHeld = sound && (audio === null || audio.state !== 'running');
  const notify = typeof Notification === 'undefined' ? 'unsupported' : Notification.permission;
  if (snapshot === null || snapshot.sound !== sound || snapshot.soundHeld !== soundHeld || snapshot.notify !== notify) snapshot = { sound, soundHeld, notify };
  return snapshot;
}

export function useAlerting(): AlertingState {
  return useSyncExternalStore(subscribe, read);
}

/** Creates or resumes the audio context; works when called from a user gesture (or where the browser allows autoplay). */
function wakeAudio(): void {
  if (audio === null) {
    audio = new AudioContext();
    audio.addEventListener('statechange', changed);
  }
  if (audio.state === 'suspended') void audio.resume().then(changed, changed);
  changed();
}

// With the sound on from an earlier visit, the first click or key press on the page starts it.
if (typeof document !== 'undefined') {
  const onGesture = () => { if (localStorage.getItem(SOUND_KEY) === 'on') wakeAudio(); };
  document.addEventListener('pointerdown', onGesture, { capture: true });
  document.addEventListener('keydown', onGesture, { capture: true });
  if (localStorage.getItem(SOUND_KEY) === 'on') queueMicrotask(wakeAudio);
}

/** The sound toggle's action (a click: a user gesture, so the browser lets the audio start). */
export function setSound(on: boolean): void {
  localStorage.setItem(SOUND_KEY, on ? 'on' : 'off');
  if (on) { wakeAudio(); tone('immediate'); } else changed();
}

/** Asks the browser for permission to notify (from a button click). */
export async function askNotify(): Promise<void> {
  if (typeof Notification === 'undefined') return;
  await Notification.requestPermission();
  changed();
}

/** FLASH: three high beeps; IMMEDIATE: two lower ones. Nothing when the sound is off or held. */
export function tone(priority: string): void {
  if (localStorage.getItem(SOUND_KEY) !== 'on' || audio === null || audio.state !== 'running') return;
  const flash = priority === 'flash';
  const beeps = flash ? 3 : 2, freq = flash ? 880 : 660;
  const t0 = audio.currentTime + 0.02;
  for (let i = 0; i < beeps; i++) {
    const osc = audio.createOscillator(), gain = audio.createGain();
    osc.type = 'square';
    osc.frequency.value = freq;
    const start = t0 + i * 0.25;
    gain.gain.setValueAtTime(0.0001, start);
    gain.gain.exponentialRampToValueAtTime(0.2, start + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, start + 0.18);
    osc.connect(gain).connect(audio.destination);
    osc.start(start);
    osc.stop(start + 0.2);
  }
}

/** A desktop notification where the user allowed them; a click brings the console forward on the message. */
export function notify(title: string, body: string, tag: string, open: () => void): void {
  if (typeof Notification === 'undefined' || Notification.permission !== 'granted') return;
  try {
    const n = new Notification(title, { body, tag, requireInteraction: true });
    n.onclick = () => { window.focus(); open(); n.close(); };
  } catch {
    // Some browsers allow notifications only from a service worker: the tab title and the sound still say it.
  }
}
