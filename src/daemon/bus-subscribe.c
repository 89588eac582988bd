/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <systemd/sd-event.h>

#include "bus-auth.h"
#include "bus-errors.h"
#include "bus-subscribe.h"
#include "endpointd/bus.h"
#include "log.h"

typedef struct Subscriber {
        BusSubscriptions *set;
        char *name; /* unique name */
        uid_t uid;
        /* The Subscribe() call: its sender is authorized again before every
         * signal, with the identity the bus vouched for. */
        sd_bus_message *request;
        sd_bus_slot *name_watch; /* NameOwnerChanged for name */
        sd_bus_slot *owner_check; /* GetNameOwner(name) in flight */
        unsigned retries; /* of the watch and the check, after a timeout */
        bool dead; /* dropped while a delivery was going on */
} Subscriber;

/* How often the name watch and the owner check are asked again when the
 * bus did not answer in time (a loaded bus, not a client that left). */
#define SUBSCRIBER_RETRIES_MAX 3U

struct BusSubscriptions {
        Manager *manager;
        const char *interface;
        const char *permission;
        Subscriber *subscribers[BUS_SUBSCRIBERS_MAX];
        size_t n;
        /* Deliveries in progress: a subscriber dropped meanwhile is only
         * marked dead, and removed when the outermost one ends. */
        unsigned busy;
        sd_event_source *recheck_source;
};

static Subscriber *subscriber_free(Subscriber *sub) {
        if (!sub)
                return NULL;
        sd_bus_slot_unref(sub->name_watch);
        sd_bus_slot_unref(sub->owner_check);
        sd_bus_message_unref(sub->request);
        free(sub->name);
        free(sub);
        return NULL;
}
DEFINE_TRIVIAL_CLEANUP_FUNC(Subscriber *, subscriber_free);

int bus_subscriptions_new(Manager *m, const char *interface, const char *permission,
                          BusSubscriptions **ret) {
        BusSubscriptions *set = calloc(1, sizeof(BusSubscriptions));

        if (!set)
                return -ENOMEM;
        *set = (BusSubscriptions){ .manager = m, .interface = interface, .permission = permission };
        *ret = set;
        return 0;
}

BusSubscriptions *bus_subscriptions_free(BusSubscriptions *set) {
        if (!set)
                return NULL;
        for (size_t i = 0; i < set->n; i++)
                subscriber_free(set->subscribers[i]);
        sd_event_source_disable_unref(set->recheck_source);
        free(set);
        return NULL;
}

size_t bus_subscriptions_count(const BusSubscriptions *set) {
        size_t n = 0;

        for (size_t i = 0; set && i < set->n; i++)
                n += !set->subscribers[i]->dead;
        return n;
}

/* The live subscriber called name, or NULL. */
static Subscriber *subscriber_find(const BusSubscriptions *set, const char *name) {
        for (size_t i = 0; name && i < set->n; i++)
                if (!set->subscribers[i]->dead && streq(set->subscribers[i]->name, name))
                        return set->subscribers[i];
        return NULL;
}

/* Frees the dead subscribers, once no delivery walks the array. */
static void subscriptions_compact(BusSubscriptions *set) {
        if (set->busy > 0)
                return;
        for (size_t i = set->n; i > 0; i--)
                if (set->subscribers[i - 1]->dead) {
                        subscriber_free(set->subscribers[i - 1]);
                        set->subscribers[i - 1] = set->subscribers[--set->n];
                }
}

/* Ends a subscription. */
static void subscriber_drop(Subscriber *sub, const char *why) {
        if (sub->dead)
                return;
        log_debug("Subscription of %s (uid %u) to %s signals ended: %s.", sub->name, (unsigned) sub->uid,
                  sub->set->interface, why);
        sub->dead = true;
        /* No callback of a dead subscriber may run. */
        sub->name_watch = sd_bus_slot_unref(sub->name_watch);
        sub->owner_check = sd_bus_slot_unref(sub->owner_check);
        subscriptions_compact(sub->set);
}

static int on_subscriber_name_changed(sd_bus_message *msg, void *userdata, sd_bus_error *ret_error) {
        Subscriber *sub = userdata;
        const char *name, *old_owner, *new_owner;

        if (sd_bus_message_read(msg, "sss", &name, &old_owner, &new_owner) >= 0 && isempty(new_owner))
                subscriber_drop(sub, "it left the bus");
        return 0;
}

static int subscriber_watch(Subscriber *sub, sd_bus *bus);
static int subscriber_check_owner(Subscriber *sub, sd_bus *bus);

/* Whether reply is sd-bus's own error for a call the bus did not answer in
 * time: the client may well be there, so the question is asked again (up
 * to SUBSCRIBER_RETRIES_MAX times). A loop too busy to read the answer
 * once dropped a live subscriber here, whose `endpointctl scan` then
 * waited for ever. */
static bool subscriber_retry(Subscriber *sub, const sd_bus_message *reply) {
        const sd_bus_error *e = sd_bus_message_get_error((sd_bus_message *) reply);

        if (!sd_bus_error_has_names(e, SD_BUS_ERROR_NO_REPLY, SD_BUS_ERROR_TIMEOUT) ||
            sub->retries >= SUBSCRIBER_RETRIES_MAX)
                return false;
        sub->retries++;
        log_debug("The bus did not answer in time about %s; asking again (%u of %u).", sub->name, sub->retries,
                  SUBSCRIBER_RETRIES_MAX);
        return true;
}

static int on_subscriber_owner_checked(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        Subscriber *sub = userdata;

        sub->owner_check = sd_bus_slot_unref(sub->owner_check);
        if (!sd_bus_message_is_method_error(reply, NULL))
                return 0;
        if (subscriber_retry(sub, reply) && subscriber_check_owner(sub, sd_bus_message_get_bus(reply)) >= 0)
                return 0;
        subscriber_drop(sub, "it left the bus before it could be watched");
        return 0;
}

/* Once the bus watches the name for us, ask whether it still exists: a
 * client that left before the watch was in place is noticed here. */
static int on_subscriber_watch_installed(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        Subscriber *sub = userdata;
        sd_bus *bus = sd_bus_message_get_bus(reply);

        if (sd_bus_message_is_method_error(reply, NULL)) {
                /* The failed match is removed with its slot; a new one replaces it. */
                sub->name_watch = sd_bus_slot_unref(sub->name_watch);
                if (!subscriber_retry(sub, reply) || subscriber_watch(sub, bus) < 0)
                        subscriber_drop(sub, "the bus would not watch its name");
                return 0;
        }
        if (subscriber_check_owner(sub, bus) < 0)
                subscriber_drop(sub, "its name could not be checked");
        return 0;
}

static int subscriber_check_owner(Subscriber *sub, sd_bus *bus) {
        return sd_bus_call_method_async(bus, &sub->owner_check, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                        "org.freedesktop.DBus", "GetNameOwner", on_subscriber_owner_checked, sub,
                                        "s", sub->name);
}

/* Asks the bus for NameOwnerChanged of sub's name. */
static int subscriber_watch(Subscriber *sub, sd_bus *bus) {
        char match[256];

        /* A unique name is ':' and [A-Za-z0-9_.-]: nothing to quote. */
        (void) snprintf(match, sizeof(match),
                        "type='signal',sender='org.freedesktop.DBus',path='/org/freedesktop/DBus',"
                        "interface='org.freedesktop.DBus',member='NameOwnerChanged',arg0='%s'",
                        sub->name);
        return sd_bus_add_match_async(bus, &sub->name_watch, match, on_subscriber_name_changed,
                                      on_subscriber_watch_installed, sub);
}

/* Whether sub still holds the permission; drops it (and says why) if not. */
static bool subscriber_check(Subscriber *sub) {
        BusSubscriptions *set = sub->set;
        char reason[256] = "";
        int r;

        if (sub->dead)
                return false;
        r = bus_caller_check(set->manager, sub->request, set->permission, reason, sizeof(reason));
        if (r > 0)
                return true;
        log_info("Subscription of %s (uid %u) to %s signals ended: %s.", sub->name, (unsigned) sub->uid,
                 set->interface, r < 0 ? strerror(-r) : reason);
        subscriber_drop(sub, "it lost the permission");
        return false;
}

static void subscriptions_recheck(BusSubscriptions *set) {
        set->busy++;
        for (size_t i = 0; i < set->n; i++)
                (void) subscriber_check(set->subscribers[i]);
        set->busy--;
        subscriptions_compact(set);
}

static int on_subscriptions_recheck(sd_event_source *s, void *userdata) {
        subscriptions_recheck(userdata);
        return 0;
}

void bus_subscriptions_access_changed(BusSubscriptions *set) {
        int r;

        if (!set || set->n == 0)
                return;
        if (!set->recheck_source) {
                r = sd_event_add_defer(set->manager->event, &set->recheck_source, on_subscriptions_recheck,
                                       set);
                if (r < 0) {
                        /* Every signal checks anyway; this only drops them sooner. */
                        log_debug_errno(r, "Cannot schedule the check of %s subscribers: %m",
                                        set->interface);
                        return;
                }
        }
        (void) sd_event_source_set_enabled(set->recheck_source, SD_EVENT_ONESHOT);
}

/* The set of the interface msg calls. */
static BusSubscriptions *subscriptions_of(Manager *m, sd_bus_message *msg) {
        const char *interface = sd_bus_message_get_interface(msg);

        return streq_ptr(interface, ENDPOINTD_IFACE_AUDIT) ? m->audit_subscriptions
                                                           : m->integrity_subscriptions;
}

static int subscriptions_add(BusSubscriptions *set, sd_bus_message *msg, sd_bus_error *error) {
        _cleanup_(subscriber_freep) Subscriber *sub = NULL;
        const char *sender = sd_bus_message_get_sender(msg);
        unsigned mine = 0;
        uid_t uid;
        int r;

        r = bus_caller_uid(set->manager, msg, &uid);
        if (r < 0 || !sender)
                return sd_bus_error_set_errnof(error, r < 0 ? -r : ESRCH,
                                               "Cannot determine the caller's identity: %m");
        if (subscriber_find(set, sender))
                return sd_bus_reply_method_return(msg, NULL);
        for (size_t i = 0; i < set->n; i++)
                if (!set->subscribers[i]->dead && set->subscribers[i]->uid == uid)
                        mine++;
        if (mine >= BUS_SUBSCRIBERS_PER_UID_MAX)
                return sd_bus_error_setf(error, SD_BUS_ERROR_LIMITS_EXCEEDED,
                                         "uid %u holds %u subscriptions already.", (unsigned) uid, mine);
        if (set->n >= BUS_SUBSCRIBERS_MAX)
                return bus_error_set_errnof(error, EBUSY,
                                            "%u clients are subscribed already; try again later.",
                                            BUS_SUBSCRIBERS_MAX);

        sub = calloc(1, sizeof(Subscriber));
        if (!sub)
                return -ENOMEM;
        *sub = (Subscriber){
                .set = set, .name = strdup(sender), .uid = uid, .request = sd_bus_message_ref(msg)
        };
        if (!sub->name)
                return -ENOMEM;
        r = subscriber_watch(sub, sd_bus_message_get_bus(msg));
        if (r < 0)
                return r;
        set->subscribers[set->n++] = TAKE_PTR(sub);
        log_debug("%s (uid %u) subscribed to %s signals.", sender, (unsigned) uid, set->interface);
        return sd_bus_reply_method_return(msg, NULL);
}

int bus_method_subscribe(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        int r;

        r = bus_authorize(m, msg, NULL, error);
        if (r < 0)
                return r;
        return subscriptions_add(subscriptions_of(m, msg), msg, error);
}

int bus_method_unsubscribe(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        Subscriber *sub;
        int r;

        r = bus_authorize(m, msg, NULL, error);
        if (r < 0)
                return r;
        sub = subscriber_find(subscriptions_of(m, msg), sd_bus_message_get_sender(msg));
        if (sub)
                subscriber_drop(sub, "it unsubscribed");
        return sd_bus_reply_method_return(msg, NULL);
}

void bus_subscriptions_emit(BusSubscriptions *set, const char *member, BusSignalAppendFunc append,
                            void *userdata) {
        Manager *m = set ? set->manager : NULL;

        if (!m || !m->bus || !m->ready || set->n == 0)
                return;
        set->busy++;
        /* Subscribers added meanwhile (at the end) are served too. */
        for (size_t i = 0; i < set->n; i++) {
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *s = NULL;
                Subscriber *sub = set->subscribers[i];
                int r;

                if (!subscriber_check(sub))
                        continue;
                r = sd_bus_message_new_signal(m->bus, &s, ENDPOINTD_OBJECT_PATH, set->interface, member);
                if (r >= 0)
                        r = sd_bus_message_set_destination(s, sub->name);
                if (r >= 0)
                        r = append(s, userdata);
                if (r >= 0)
                        r = sd_bus_send(m->bus, s, NULL);
                if (r < 0)
                        log_debug_errno(r, "Failed to send %s.%s to %s: %m", set->interface, member,
                                        sub->name);
        }
        set->busy--;
        subscriptions_compact(set);
}
