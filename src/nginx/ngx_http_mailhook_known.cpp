// SPDX-License-Identifier: BSD-2-Clause
#include "ngx_http_mailhook_known.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <vector>

#include "../core/connection_snapshot.hpp"
#include "ngx_http_mailhook_spool_files.hpp"

namespace mailhook::nginx {

// The zone's shared part: a tree by id, the order connections were last
// confirmed by Redis (the oldest go first when the zone is full), and a
// change count for the snapshot writer.
struct KnownShared {
    ngx_rbtree_t tree;
    ngx_rbtree_node_t sentinel;
    ngx_queue_t order;        // most recently confirmed first
    ngx_atomic_t generation;  // bumped by every change
    ngx_atomic_t saved;       // the generation the snapshot on disk has
};

// One connection: its id (the tree key) and its encoded record.
struct KnownNode {
    ngx_str_node_t sn;  // first: the tree node
    ngx_queue_t order;
    size_t record_len;
    u_char bytes[1];    // the id, then the record
};

// Per cycle, in the configuration pool.
struct KnownZoneConf {
    std::string snapshot_path;
    KnownShared* shared = nullptr;
};

namespace {

constexpr ngx_msec_t kSaveInterval = 1000;
constexpr int kMaxEvictions = 32;

std::string_view record_of(const KnownNode* node) {
    return {reinterpret_cast<const char*>(node->bytes + node->sn.str.len), node->record_len};
}

KnownNode* lookup(KnownShared* shared, std::string_view id) {
    ngx_str_t name = {id.size(), reinterpret_cast<u_char*>(const_cast<char*>(id.data()))};
    const uint32_t hash = ngx_crc32_short(name.data, name.len);
    return reinterpret_cast<KnownNode*>(ngx_str_rbtree_lookup(&shared->tree, &name, hash));
}

void remove_node(ngx_slab_pool_t* pool, KnownShared* shared, KnownNode* node) {
    ngx_rbtree_delete(&shared->tree, &node->sn.node);
    ngx_queue_remove(&node->order);
    ngx_slab_free_locked(pool, node);
}

// Inserts (the caller holds the lock and removed any node of that id);
// the oldest connections make room when the zone is full.
bool insert_locked(ngx_slab_pool_t* pool, KnownShared* shared, std::string_view id,
                   std::string_view record) {
    const size_t size = offsetof(KnownNode, bytes) + id.size() + record.size();
    void* memory = ngx_slab_alloc_locked(pool, size);
    for (int i = 0; memory == nullptr && i < kMaxEvictions && !ngx_queue_empty(&shared->order);
         ++i) {
        ngx_queue_t* oldest = ngx_queue_last(&shared->order);
        remove_node(pool, shared, ngx_queue_data(oldest, KnownNode, order));
        memory = ngx_slab_alloc_locked(pool, size);
    }
    if (memory == nullptr) {
        return false;
    }
    auto* node = static_cast<KnownNode*>(memory);
    ngx_memcpy(node->bytes, id.data(), id.size());
    ngx_memcpy(node->bytes + id.size(), record.data(), record.size());
    node->record_len = record.size();
    node->sn.str.data = node->bytes;
    node->sn.str.len = id.size();
    node->sn.node.key = ngx_crc32_short(node->bytes, id.size());
    ngx_rbtree_insert(&shared->tree, &node->sn.node);
    ngx_queue_insert_head(&shared->order, &node->order);
    return true;
}

bool read_file(const std::string& path, std::string& out) {
    const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return false;
    }
    const bool ok = read_whole(fd, out);
    close(fd);
    return ok;
}

// A fresh zone (first start, a restart, a changed size): what the last
// snapshot knew. Runs in the master, before the workers start.
void load_snapshot(ngx_slab_pool_t* pool, KnownZoneConf* conf, ngx_log_t* log) {
    std::string bytes;
    if (!read_file(conf->snapshot_path, bytes)) {
        return;  // none yet
    }
    const auto records = decode_connection_snapshot(bytes);
    if (!records) {
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "mailhook: %s is damaged; starting without known connections",
                      conf->snapshot_path.c_str());
        return;
    }
    std::size_t loaded = 0;
    // The snapshot lists the most recent first; insert oldest first to keep
    // that order.
    for (auto it = records->rbegin(); it != records->rend(); ++it) {
        const auto known = decode_known_connection(*it);
        if (known && lookup(conf->shared, known->id) == nullptr &&
            insert_locked(pool, conf->shared, known->id, *it)) {
            ++loaded;
        }
    }
    conf->shared->saved = conf->shared->generation;
    ngx_log_error(NGX_LOG_NOTICE, log, 0, "mailhook: %uz known connection(s) loaded from %s",
                  loaded, conf->snapshot_path.c_str());
}

ngx_int_t init_zone(ngx_shm_zone_t* zone, void* data) noexcept {
    auto* conf = static_cast<KnownZoneConf*>(zone->data);
    if (data != nullptr) {
        conf->shared = static_cast<KnownZoneConf*>(data)->shared;  // reload: kept
        return NGX_OK;
    }
    auto* pool = reinterpret_cast<ngx_slab_pool_t*>(zone->shm.addr);
    if (zone->shm.exists) {
        conf->shared = static_cast<KnownShared*>(pool->data);
        return NGX_OK;
    }
    auto* shared = static_cast<KnownShared*>(ngx_slab_calloc(pool, sizeof(KnownShared)));
    if (shared == nullptr) {
        return NGX_ERROR;
    }
    ngx_rbtree_init(&shared->tree, &shared->sentinel, ngx_str_rbtree_insert_value);
    ngx_queue_init(&shared->order);
    pool->data = shared;
    conf->shared = shared;
    pool->log_nomem = 0;  // a full zone evicts; no log line per miss
    try {
        ngx_shmtx_lock(&pool->mutex);
        load_snapshot(pool, conf, zone->shm.log);
        ngx_shmtx_unlock(&pool->mutex);
    } catch (const std::exception& e) {
        ngx_shmtx_unlock(&pool->mutex);
        ngx_log_error(NGX_LOG_WARN, zone->shm.log, 0, "mailhook: %s", e.what());
    }
    return NGX_OK;
}

}  // namespace

ngx_shm_zone_t* KnownConnections::add_zone(ngx_conf_t* cf, size_t size,
                                           std::string snapshot_path) {
    ngx_str_t name = ngx_string("mailhook_connections");
    ngx_shm_zone_t* zone = ngx_shared_memory_add(cf, &name, size, &ngx_http_mailhook_module);
    if (zone == nullptr) {
        return nullptr;
    }
    auto* conf = pool_new<KnownZoneConf>(cf->pool);
    if (conf == nullptr) {
        return nullptr;
    }
    conf->snapshot_path = std::move(snapshot_path);
    zone->init = init_zone;
    zone->data = conf;
    return zone;
}

KnownConnections::KnownConnections(ngx_shm_zone_t* zone, ngx_log_t* log)
    : conf_(static_cast<KnownZoneConf*>(zone->data)),
      pool_(reinterpret_cast<ngx_slab_pool_t*>(zone->shm.addr)) {
    log_ = *log;
    ngx_memzero(&timer_owner_, sizeof(timer_owner_));
    timer_owner_.fd = (ngx_socket_t) -1;
    timer_owner_.data = this;
    ngx_memzero(&save_timer_, sizeof(save_timer_));
    save_timer_.data = &timer_owner_;
    save_timer_.log = &log_;
    save_timer_.handler = on_save_timer;
    save_timer_.cancelable = 1;
    ngx_add_timer(&save_timer_, kSaveInterval);
}

KnownConnections::~KnownConnections() {
    if (save_timer_.timer_set) {
        ngx_del_timer(&save_timer_);
    }
}

void KnownConnections::remember(std::string_view id, const FieldList& fields) {
    const std::string record = encode_known_connection(id, fields);
    KnownShared* shared = conf_->shared;
    ngx_shmtx_lock(&pool_->mutex);
    KnownNode* node = lookup(shared, id);
    if (node != nullptr && record_of(node) == record) {
        ngx_queue_remove(&node->order);  // confirmed again: the newest
        ngx_queue_insert_head(&shared->order, &node->order);
    } else {
        if (node != nullptr) {
            remove_node(pool_, shared, node);
        }
        (void) insert_locked(pool_, shared, id, record);
        ++shared->generation;
    }
    ngx_shmtx_unlock(&pool_->mutex);
}

void KnownConnections::forget(std::string_view id) {
    KnownShared* shared = conf_->shared;
    ngx_shmtx_lock(&pool_->mutex);
    if (KnownNode* node = lookup(shared, id)) {
        remove_node(pool_, shared, node);
        ++shared->generation;
    }
    ngx_shmtx_unlock(&pool_->mutex);
}

std::optional<FieldList> KnownConnections::find(std::string_view id) {
    std::string record;
    ngx_shmtx_lock(&pool_->mutex);
    if (const KnownNode* node = lookup(conf_->shared, id)) {
        try {
            record.assign(record_of(node));
        } catch (...) {
            record.clear();
        }
    }
    ngx_shmtx_unlock(&pool_->mutex);
    auto known = record.empty() ? std::nullopt : decode_known_connection(record);
    if (!known || known->id != id) {
        return std::nullopt;
    }
    return std::move(known->fields);
}

void KnownConnections::save_snapshot() {
    KnownShared* shared = conf_->shared;
    if (shared->saved == shared->generation) {
        return;
    }
    // One writer at a time; the others find the snapshot current next time.
    const std::string lock_path = conf_->snapshot_path + ".lock";
    const int lock = open(lock_path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    if (lock < 0) {
        return;
    }
    if (flock(lock, LOCK_EX | LOCK_NB) != 0) {
        close(lock);
        return;
    }
    std::vector<std::string> records;
    ngx_shmtx_lock(&pool_->mutex);
    const ngx_atomic_uint_t generation = shared->generation;
    try {
        for (ngx_queue_t* q = ngx_queue_head(&shared->order);
             q != ngx_queue_sentinel(&shared->order); q = ngx_queue_next(q)) {
            records.emplace_back(record_of(ngx_queue_data(q, KnownNode, order)));
        }
    } catch (...) {
        records.clear();
    }
    ngx_shmtx_unlock(&pool_->mutex);
    const std::string bytes = encode_connection_snapshot(records);
    const std::string temporary = conf_->snapshot_path + ".tmp";
    const std::size_t slash = conf_->snapshot_path.rfind('/');
    const std::string dir = conf_->snapshot_path.substr(0, slash);
    (void) unlink(temporary.c_str());
    if (write_new_file(dir, temporary.substr(slash + 1), bytes) &&
        rename(temporary.c_str(), conf_->snapshot_path.c_str()) == 0) {
        sync_directory(dir);
        shared->saved = generation;
    } else {
        ngx_log_error(NGX_LOG_WARN, &log_, ngx_errno, "mailhook: cannot write %s",
                      conf_->snapshot_path.c_str());
    }
    close(lock);
}

void KnownConnections::on_save_timer(ngx_event_t* ev) {
    auto* known =
        static_cast<KnownConnections*>(static_cast<ngx_connection_t*>(ev->data)->data);
    try {
        known->save_snapshot();
    } catch (const std::exception& e) {
        ngx_log_error(NGX_LOG_WARN, ev->log, 0, "mailhook: %s", e.what());
    }
    if (!ngx_exiting && !ngx_quit && !ngx_terminate) {
        ngx_add_timer(&known->save_timer_, kSaveInterval);
    }
}

}  // namespace mailhook::nginx
