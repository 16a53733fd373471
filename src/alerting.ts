/**
 * `perf-monitor-agent/alerting`: the notification side for programs that drive it themselves (a dispatcher,
 * webhook signature checks). Apart from the main entry point so that importing the package does not load it.
 */
export { AlertDispatcher } from './alerts/dispatcher.js';
export type { AlertDispatcherOptions } from './alerts/dispatcher.js';
export type { ChannelStats, DispatchChannel } from './alerts/delivery.js';
export { createAlertDispatcher } from './alerts/create-dispatcher.js';
export { NotifyError } from './alerts/notifiers/notify-error.js';
export { SIGNATURE_HEADER, verifySignature } from './alerts/notifiers/webhook.js';
