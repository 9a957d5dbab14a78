/*-------------------------------------------------------------------------
 *
 * throttle.h
 *		Throttling of wrong code entries in shared memory (throttle.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef BENEFIT_THROTTLE_H
#define BENEFIT_THROTTLE_H

/* benefit.throttle_failures, benefit.throttle_window (seconds), benefit.throttle_entries */
extern int	benefit_throttle_failures;
extern int	benefit_throttle_window;
extern int	benefit_throttle_entries;

extern void benefit_throttle_init(void);
extern bool benefit_throttle_check(bool has_contact, int64 contact_id, text *client_key);
extern void benefit_throttle_count(bool has_contact, int64 contact_id, text *client_key, int32 n);

#endif							/* BENEFIT_THROTTLE_H */
