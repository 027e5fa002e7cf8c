// game-npc: NPCs as machine instances stepped once per frame; lua/npc.lua is reloaded
// between frames when it changes, and every NPC keeps its state and data.
// Usage: game_npc [NPCS] [FRAMES] [--live]     (--live: 60 frames/s, for editing npc.lua)
#include <statenet/statenet.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>
#include <thread>

int main(int argc, char** argv) {
    const int npcs = argc > 1 ? std::stoi(argv[1]) : 1000;
    const int frames = argc > 2 ? std::stoi(argv[2]) : 600;
    const bool live = argc > 3 && std::string(argv[3]) == "--live";
    const auto workflow = std::filesystem::path(argv[0]).parent_path() / "npc.toml";
    const auto source = std::filesystem::exists(workflow) ? workflow : std::filesystem::path(GAME_NPC_DIR) / "npc.toml";

    statenet::Engine engine;
    statenet::Machines world(engine, source);  // in-memory store, game time moved by step(dt)
    for (int i = 0; i < npcs; ++i)
        world.start("npc" + std::to_string(i), statenet::Value::object({{"hp", statenet::Value(30 + i % 71)}}));

    constexpr double frame_ms = 1000.0 / 60;
    std::size_t transitions = 0;
    for (int frame = 1; frame <= frames; ++frame) {
        if (auto report = world.reload_if_changed()) {
            if (report->ok) std::printf("frame %d: reloaded %s\n", frame, source.c_str());
            for (const auto& error : report->errors)
                std::printf("frame %d: reload refused: %s\n", frame, error.str().c_str());
        }
        // The player shows up near a few NPCs and hits one now and then.
        for (int i = frame % 7; i < npcs; i += 97) world.post("npc" + std::to_string(i), "see_player");
        if (frame % 5 == 0)
            world.post("npc" + std::to_string(frame * 13 % npcs), "hit",
                       statenet::Value::object({{"damage", statenet::Value(40)}}));
        transitions += world.step(frame_ms);
        if (live) std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(frame_ms));
    }
    std::map<std::string, int> by_state;
    for (const auto& npc : world.list()) ++by_state[npc.state];
    std::printf("%d frames, %d NPCs, %zu transitions\n", frames, npcs, transitions);
    for (const auto& [state, count] : by_state) std::printf("%s %d\n", state.c_str(), count);
    return 0;
}
