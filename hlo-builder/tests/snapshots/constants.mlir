module {
  func.func @main() -> (tensor<2xf32>, tensor<3xi8>, tensor<1xbf16>, tensor<1xcomplex<f64>>, tensor<2x2xi1>, tensor<3xui16>, tensor<2xf8E4M3FN>, tensor<0xf32>, tensor<2x2xi64>) {
    %0 = "stablehlo.constant"() {value = dense<[1.000000e+00, -2.500000e+00]> : tensor<2xf32>} : () -> tensor<2xf32>
    %1 = "stablehlo.constant"() {value = dense<[1, -1, 127]> : tensor<3xi8>} : () -> tensor<3xi8>
    %2 = "stablehlo.constant"() {value = dense<1.500000e+00> : tensor<1xbf16>} : () -> tensor<1xbf16>
    %3 = "stablehlo.constant"() {value = dense<(1.000000e+00,-1.000000e+00)> : tensor<1xcomplex<f64>>} : () -> tensor<1xcomplex<f64>>
    %4 = "stablehlo.constant"() {value = dense<[[true, false], [false, true]]> : tensor<2x2xi1>} : () -> tensor<2x2xi1>
    %5 = "stablehlo.constant"() {value = dense<7> : tensor<3xui16>} : () -> tensor<3xui16>
    %6 = "stablehlo.constant"() {value = dense<5.000000e-01> : tensor<2xf32>} : () -> tensor<2xf32>
    %7 = "stablehlo.convert"(%6) : (tensor<2xf32>) -> tensor<2xf8E4M3FN>
    %8 = "stablehlo.constant"() {value = dense<> : tensor<0xf32>} : () -> tensor<0xf32>
    %9 = "stablehlo.iota"() {iota_dimension = 1 : i64} : () -> tensor<2x2xi64>
    return %0, %1, %2, %3, %4, %5, %7, %8, %9 : tensor<2xf32>, tensor<3xi8>, tensor<1xbf16>, tensor<1xcomplex<f64>>, tensor<2x2xi1>, tensor<3xui16>, tensor<2xf8E4M3FN>, tensor<0xf32>, tensor<2x2xi64>
  }
}
