module {
  func.func @main(%arg0: tensor<3xf32>, %arg1: tensor<i1>) -> (tensor<i32>, tensor<2xf32>, tensor<2xi32>, tensor<3xf32>, tensor<i32>, tensor<3xf32>) {
    %0 = "stablehlo.iota"() {iota_dimension = 0 : i64} : () -> tensor<3xi32>
    %1 = "stablehlo.constant"() {value = dense<0xFF800000> : tensor<f32>} : () -> tensor<f32>
    %2 = "stablehlo.constant"() {value = dense<0> : tensor<i32>} : () -> tensor<i32>
    %3:2 = "stablehlo.reduce"(%arg0, %0, %1, %2) ({
    ^bb0(%arg2: tensor<f32>, %arg3: tensor<i32>, %arg4: tensor<f32>, %arg5: tensor<i32>):
      %12 = "stablehlo.compare"(%arg2, %arg4) {compare_type = #stablehlo<comparison_type FLOAT>, comparison_direction = #stablehlo<comparison_direction GT>} : (tensor<f32>, tensor<f32>) -> tensor<i1>
      %13 = "stablehlo.compare"(%arg2, %arg4) {compare_type = #stablehlo<comparison_type FLOAT>, comparison_direction = #stablehlo<comparison_direction EQ>} : (tensor<f32>, tensor<f32>) -> tensor<i1>
      %14 = "stablehlo.compare"(%arg3, %arg5) {compare_type = #stablehlo<comparison_type SIGNED>, comparison_direction = #stablehlo<comparison_direction LT>} : (tensor<i32>, tensor<i32>) -> tensor<i1>
      %15 = "stablehlo.and"(%13, %14) : (tensor<i1>, tensor<i1>) -> tensor<i1>
      %16 = "stablehlo.compare"(%arg2, %arg2) {compare_type = #stablehlo<comparison_type FLOAT>, comparison_direction = #stablehlo<comparison_direction NE>} : (tensor<f32>, tensor<f32>) -> tensor<i1>
      %17 = "stablehlo.compare"(%arg4, %arg4) {compare_type = #stablehlo<comparison_type FLOAT>, comparison_direction = #stablehlo<comparison_direction NE>} : (tensor<f32>, tensor<f32>) -> tensor<i1>
      %18 = "stablehlo.not"(%17) : (tensor<i1>) -> tensor<i1>
      %19 = "stablehlo.or"(%12, %15) : (tensor<i1>, tensor<i1>) -> tensor<i1>
      %20 = "stablehlo.and"(%19, %18) : (tensor<i1>, tensor<i1>) -> tensor<i1>
      %21 = "stablehlo.or"(%18, %14) : (tensor<i1>, tensor<i1>) -> tensor<i1>
      %22 = "stablehlo.select"(%16, %21, %20) : (tensor<i1>, tensor<i1>, tensor<i1>) -> tensor<i1>
      %23 = "stablehlo.select"(%22, %arg2, %arg4) : (tensor<i1>, tensor<f32>, tensor<f32>) -> tensor<f32>
      %24 = "stablehlo.select"(%22, %arg3, %arg5) : (tensor<i1>, tensor<i32>, tensor<i32>) -> tensor<i32>
      "stablehlo.return"(%23, %24) : (tensor<f32>, tensor<i32>) -> ()
    }) {dimensions = array<i64: 0>} : (tensor<3xf32>, tensor<3xi32>, tensor<f32>, tensor<i32>) -> (tensor<f32>, tensor<i32>)
    %4 = "stablehlo.iota"() {iota_dimension = 0 : i64} : () -> tensor<3xi32>
    %5:2 = "stablehlo.sort"(%arg0, %4) ({
    ^bb0(%arg2: tensor<f32>, %arg3: tensor<f32>, %arg4: tensor<i32>, %arg5: tensor<i32>):
      %12 = "stablehlo.compare"(%arg2, %arg3) {compare_type = #stablehlo<comparison_type FLOAT>, comparison_direction = #stablehlo<comparison_direction GT>} : (tensor<f32>, tensor<f32>) -> tensor<i1>
      "stablehlo.return"(%12) : (tensor<i1>) -> ()
    }) {dimension = 0 : i64, is_stable = true} : (tensor<3xf32>, tensor<3xi32>) -> (tensor<3xf32>, tensor<3xi32>)
    %6 = "stablehlo.slice"(%5#0) {limit_indices = array<i64: 2>, start_indices = array<i64: 0>, strides = array<i64: 1>} : (tensor<3xf32>) -> tensor<2xf32>
    %7 = "stablehlo.slice"(%5#1) {limit_indices = array<i64: 2>, start_indices = array<i64: 0>, strides = array<i64: 1>} : (tensor<3xi32>) -> tensor<2xi32>
    %8 = "stablehlo.if"(%arg1) ({
      %12 = "stablehlo.negate"(%arg0) : (tensor<3xf32>) -> tensor<3xf32>
      "stablehlo.return"(%12) : (tensor<3xf32>) -> ()
    }, {
      "stablehlo.return"(%arg0) : (tensor<3xf32>) -> ()
    }) : (tensor<i1>) -> tensor<3xf32>
    %9 = "stablehlo.constant"() {value = dense<0> : tensor<i32>} : () -> tensor<i32>
    %10 = "stablehlo.while"(%9) ({
    ^bb0(%arg2: tensor<i32>):
      %12 = "stablehlo.constant"() {value = dense<3> : tensor<i32>} : () -> tensor<i32>
      %13 = "stablehlo.compare"(%arg2, %12) {compare_type = #stablehlo<comparison_type SIGNED>, comparison_direction = #stablehlo<comparison_direction LT>} : (tensor<i32>, tensor<i32>) -> tensor<i1>
      "stablehlo.return"(%13) : (tensor<i1>) -> ()
    }, {
    ^bb0(%arg2: tensor<i32>):
      %12 = "stablehlo.constant"() {value = dense<1> : tensor<i32>} : () -> tensor<i32>
      %13 = "stablehlo.add"(%arg2, %12) : (tensor<i32>, tensor<i32>) -> tensor<i32>
      "stablehlo.return"(%13) : (tensor<i32>) -> ()
    }) : (tensor<i32>) -> tensor<i32>
    %11 = call @twice(%arg0) : (tensor<3xf32>) -> tensor<3xf32>
    return %3#1, %6, %7, %8, %10, %11 : tensor<i32>, tensor<2xf32>, tensor<2xi32>, tensor<3xf32>, tensor<i32>, tensor<3xf32>
  }
  func.func private @twice(%arg0: tensor<3xf32>) -> tensor<3xf32> {
    %0 = "stablehlo.add"(%arg0, %arg0) : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
    return %0 : tensor<3xf32>
  }
}
