# Per-test properties for the Check suites globbed in tests/CMakeLists.txt,
# and the non-Check steps they depend on.
# Labels: `unit` (fast, no model files), `model` (needs weights/fetch.sh),
# `slow` (skipped by the sanitizer run in .ci/run: ctest -LE slow).
function(docrt_test_props name)
  if(TEST ${name})
    set_tests_properties(${name} PROPERTIES ${ARGN})
  endif()
endfunction()

docrt_test_props(test_npy LABELS "unit" TIMEOUT 120)
docrt_test_props(test_cli LABELS "model" TIMEOUT 600)

# ONNX Runtime references for test_ort_models (tests/ort/make_reference.sh,
# which installs onnxruntime-node with npm on first use).
if(TEST test_ort_models AND EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/ort/make_reference.sh)
  add_test(NAME ort_reference
           COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/ort/make_reference.sh
                   ${CMAKE_BINARY_DIR}/ort_ref)
  set_tests_properties(ort_reference PROPERTIES
    FIXTURES_SETUP ort_ref LABELS "model" TIMEOUT 600)
  docrt_test_props(test_ort_models FIXTURES_REQUIRED ort_ref LABELS "model")
endif()

# ONNX node conformance (libonnx-testdata; each case in a forked child).
if(TEST test_onnx_conformance)
  set_tests_properties(test_onnx_conformance PROPERTIES
    LABELS "unit;conformance" TIMEOUT 3600)
endif()
# The models label is spelled both ways (`model` here, `models` in the brief).
if(TEST ort_reference)
  set_tests_properties(ort_reference test_ort_models PROPERTIES
    LABELS "model;models")
  set_tests_properties(test_ort_models PROPERTIES TIMEOUT 1800)
endif()
docrt_test_props(test_bounded LABELS "model" TIMEOUT 600)
# Under ASan, freed blocks sit in its quarantine and RSS grows with every
# allocation oneDNN makes inside execute; with no quarantine the RSS bound
# measures real growth (420 kB over 950 runs here), as in a Release build.
if(TEST test_bounded)
  set_property(TEST test_bounded APPEND PROPERTY ENVIRONMENT
    "ASAN_OPTIONS=detect_leaks=1:quarantine_size_mb=0")
endif()
docrt_test_props(test_bad_input LABELS "model" TIMEOUT 300)
docrt_test_props(test_export LABELS "unit" TIMEOUT 120)
docrt_test_props(test_layout LABELS "unit" TIMEOUT 60)
docrt_test_props(test_db_postprocess LABELS "unit" TIMEOUT 60)
docrt_test_props(test_geometry LABELS "unit" TIMEOUT 60)
docrt_test_props(test_ctc LABELS "unit" TIMEOUT 60)

# Synthetic pages with known text (tests/pages/make_pages.py, ~3 s) for the
# `docrt ocr` page and bad-input tests.
if(TEST test_ocr_pages OR TEST test_ocr_bad_input OR TEST test_serve OR TEST test_doctr_models)
  add_test(NAME ocr_pages_gen
           COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/pages/make_pages.py
                   ${CMAKE_BINARY_DIR}/pages)
  set_tests_properties(ocr_pages_gen PROPERTIES
    FIXTURES_SETUP ocr_pages LABELS "model" TIMEOUT 120)
endif()
docrt_test_props(test_ocr_pages FIXTURES_REQUIRED ocr_pages LABELS "model" TIMEOUT 900)
docrt_test_props(test_ocr_bad_input FIXTURES_REQUIRED ocr_pages LABELS "model" TIMEOUT 300)
docrt_test_props(test_image LABELS "unit" TIMEOUT 300)
docrt_test_props(test_overlay LABELS "unit" TIMEOUT 60)
docrt_test_props(test_archive_inputs LABELS "unit" TIMEOUT 60)
docrt_test_props(test_archive LABELS "model" TIMEOUT 600)
docrt_test_props(test_archive_reader LABELS "unit" TIMEOUT 60)
# docrt serve on a loopback port (needs the generated pages).
docrt_test_props(test_serve FIXTURES_REQUIRED ocr_pages LABELS "model" TIMEOUT 900)

# docTR architectures (tools/doctr): ONNX exports with seeded weights and
# PyTorch's logits, written by export.py (needs python3-torch and
# python3-torchvision), then compared with docrt in test_doctr_models.
if(TEST test_doctr_models)
  add_test(NAME doctr_reference
           COMMAND /usr/bin/python3 ${CMAKE_SOURCE_DIR}/tools/doctr/export.py all
                   -o ${CMAKE_BINARY_DIR}/doctr_ref --reference)
  set_tests_properties(doctr_reference PROPERTIES
    FIXTURES_SETUP doctr_ref LABELS "model;models" TIMEOUT 900)
  set_tests_properties(test_doctr_models PROPERTIES FIXTURES_REQUIRED "doctr_ref;ocr_pages"
                       LABELS "model;models" TIMEOUT 1200)
endif()
# docTR's post-processing (tools/doctr/reference.py: OpenCV, pyclipper) on
# the seeded docTR models' outputs and synthetic maps, against docrt's.
if(TEST test_doctr_postprocess)
  add_test(NAME doctr_postprocess_ref
           COMMAND /usr/bin/python3 ${CMAKE_SOURCE_DIR}/tools/doctr/reference.py
                   ${CMAKE_BINARY_DIR}/doctr_pp)
  set_tests_properties(doctr_postprocess_ref PROPERTIES
    FIXTURES_SETUP doctr_pp LABELS "model;models" TIMEOUT 600)
  set_tests_properties(test_doctr_postprocess PROPERTIES FIXTURES_REQUIRED doctr_pp
                       LABELS "model;models" TIMEOUT 300)
endif()

# Fuzz seed corpora (tests/fuzz/make_seeds.py) replayed through the fuzz
# targets' code with the committed crash inputs.
if(TEST test_fuzz_replay)
  add_test(NAME fuzz_seeds_gen
           COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/make_seeds.py
                   ${CMAKE_BINARY_DIR}/fuzz_seeds)
  set_tests_properties(fuzz_seeds_gen PROPERTIES
    FIXTURES_SETUP fuzz_seeds LABELS "unit" TIMEOUT 120)
  set_tests_properties(test_fuzz_replay PROPERTIES
    FIXTURES_REQUIRED fuzz_seeds LABELS "unit" TIMEOUT 600)
endif()

# The bad-file catalogue (tests/data/bad/make_bad.py), every case asserted
# for docrt ocr and docrt serve.
if(TEST test_bad_catalogue)
  add_test(NAME bad_catalogue_gen
           COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/data/bad/make_bad.py
                   ${CMAKE_BINARY_DIR}/bad --weights ${CMAKE_SOURCE_DIR}/weights)
  set_tests_properties(bad_catalogue_gen PROPERTIES
    FIXTURES_SETUP bad_catalogue LABELS "model" TIMEOUT 120)
  set_tests_properties(test_bad_catalogue PROPERTIES
    FIXTURES_REQUIRED bad_catalogue LABELS "model" TIMEOUT 900)
endif()
docrt_test_props(test_int8_ranges LABELS "unit" TIMEOUT 60)
docrt_test_props(test_lexicon LABELS "unit" TIMEOUT 60)

# One small model per fusion pattern (tests/fusion/make_fusion_models.py),
# PyTorch's outputs as the reference.
if(TEST test_fusion)
  add_test(NAME fusion_models_gen
           COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/fusion/make_fusion_models.py
                   ${CMAKE_BINARY_DIR}/fusion_models)
  set_tests_properties(fusion_models_gen PROPERTIES
    FIXTURES_SETUP fusion_models LABELS "unit" TIMEOUT 120)
  set_tests_properties(test_fusion PROPERTIES
    FIXTURES_REQUIRED fusion_models LABELS "unit" TIMEOUT 300)
endif()
