// statenet: an embeddable engine for state networks with LuaJIT logic.
#pragma once

#include <statenet/engine.hpp>
#include <statenet/error.hpp>
#include <statenet/history.hpp>
#include <statenet/item_reader.hpp>
#include <statenet/machines.hpp>
#include <statenet/result.hpp>
#include <statenet/stream.hpp>
#include <statenet/supervisor.hpp>
#include <statenet/value.hpp>
#include <statenet/workflow.hpp>
